package js

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/logs"
)

// loop is an instance's event loop. It runs on the goroutine that holds
// the instance (one invocation at a time), so there is no loop goroutine
// and no hop per request. Promise jobs run when each call into JS
// returns; the loop adds timers and callbacks from host goroutines.
//
// Timers belong to the invocation that set them: when it ends, the ones
// still pending are dropped, so nothing one request scheduled runs during
// the next.
type loop struct {
	in    *instance
	drain goja.Callable // a no-op JS function: calling it runs queued promise jobs

	mu     sync.Mutex
	queue  []func() error // callbacks posted by host goroutines
	wake   chan struct{}
	gen    uint64 // invocation generation; posts from older ones are dropped
	holds  int    // async host operations that will post exactly once
	timers timerHeap
	byID   map[int64]*timer
	nextID int64
	clock  *time.Timer

	// Promises rejected with no handler yet; reported when the
	// invocation ends if still unhandled.
	unhandled map[*goja.Promise]struct{}
}

type timer struct {
	id       int64
	when     time.Time
	every    time.Duration // > 0 for setInterval
	fn       goja.Callable
	args     []goja.Value
	index    int
	canceled bool
}

func newLoop(in *instance) *loop {
	l := &loop{in: in, wake: make(chan struct{}, 1), byID: map[int64]*timer{}}
	l.drain, _ = goja.AssertFunction(in.vm.ToValue(func(goja.FunctionCall) goja.Value { return nil }))
	in.vm.SetPromiseRejectionTracker(func(p *goja.Promise, op goja.PromiseRejectionOperation) {
		switch op {
		case goja.PromiseRejectionReject:
			if l.unhandled == nil {
				l.unhandled = make(map[*goja.Promise]struct{})
			}
			l.unhandled[p] = struct{}{}
		case goja.PromiseRejectionHandle:
			delete(l.unhandled, p)
		}
	})
	return l
}

// begin starts an invocation.
func (l *loop) begin() {
	l.mu.Lock()
	l.gen++
	l.mu.Unlock()
}

// end finishes an invocation: pending timers and posts are dropped, and
// rejections nobody handled are logged.
func (l *loop) end() {
	l.mu.Lock()
	l.gen++
	l.queue = l.queue[:0]
	l.holds = 0
	l.mu.Unlock()
	for _, t := range l.timers {
		t.fn, t.args = nil, nil
	}
	l.timers = l.timers[:0]
	clear(l.byID)
	if l.clock != nil {
		l.clock.Stop()
	}
	l.reportUnhandled()
}

// reportUnhandled logs rejected promises nobody handled (the handler's
// own result is taken out when it is awaited: it is the invocation's
// error instead).
func (l *loop) reportUnhandled() {
	for p := range l.unhandled {
		l.in.log(logs.Error, "Uncaught (in promise) "+describe(p.Result()))
	}
	clear(l.unhandled)
}

// hold registers an asynchronous host operation. The returned function
// must be called exactly once, from any goroutine, with the callback to
// run on the loop; calls after the first are ignored, and so are calls
// after the invocation ended.
func (l *loop) hold() func(func() error) {
	l.mu.Lock()
	gen := l.gen
	l.holds++
	l.mu.Unlock()
	var once sync.Once
	return func(fn func() error) {
		once.Do(func() {
			l.mu.Lock()
			if l.gen == gen {
				l.queue = append(l.queue, fn)
			}
			l.mu.Unlock()
			select {
			case l.wake <- struct{}{}:
			default:
			}
		})
	}
}

func (l *loop) setTimer(fn goja.Callable, args []goja.Value, delay float64, repeat bool) int64 {
	d := time.Duration(delay * float64(time.Millisecond))
	if d < 0 {
		d = 0
	}
	l.nextID++
	t := &timer{id: l.nextID, when: time.Now().Add(d), fn: fn, args: args}
	if repeat {
		t.every = max(d, time.Millisecond)
	}
	heap.Push(&l.timers, t)
	l.byID[t.id] = t
	return t.id
}

func (l *loop) clearTimer(id int64) {
	if t, ok := l.byID[id]; ok {
		t.canceled = true
		delete(l.byID, id)
	}
}

// busy reports whether anything may still run: a timer or a held
// operation.
func (l *loop) busy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID) > 0 || l.holds > 0 || len(l.queue) > 0
}

// step runs what is ready, waiting for something to become ready if
// nothing is. It returns false when nothing can ever run again (no timers,
// no held operations) and ctx.Err() when ctx ends first. An exception
// thrown by a callback is returned as is.
func (l *loop) step(ctx context.Context) (bool, error) {
	for {
		ran, err := l.runReady()
		if err != nil || ran {
			return true, err
		}
		if !l.busy() {
			return false, nil
		}
		var tc <-chan time.Time
		if len(l.timers) > 0 {
			d := time.Until(l.timers[0].when)
			if l.clock == nil {
				l.clock = time.NewTimer(d)
			} else {
				l.clock.Reset(d)
			}
			tc = l.clock.C
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-l.wake:
		case <-tc:
		}
	}
}

// runReady runs every posted callback, then every due timer.
func (l *loop) runReady() (bool, error) {
	l.mu.Lock()
	q := l.queue
	l.queue = nil
	l.holds -= len(q)
	l.mu.Unlock()
	for _, fn := range q {
		if err := l.call(fn); err != nil {
			return true, err
		}
	}
	ran := len(q) > 0
	if ran {
		// Go code resolved promises outside any JS call: run their jobs.
		if _, err := l.drain(goja.Undefined()); err != nil {
			return true, err
		}
	}
	now := time.Now()
	for len(l.timers) > 0 {
		t := l.timers[0]
		if t.canceled {
			heap.Pop(&l.timers)
			continue
		}
		if t.when.After(now) {
			break
		}
		if t.every > 0 {
			// The next tick is due an interval after this one was due,
			// so intervals keep their order with other timers however
			// late the loop runs; a tick already past is due now.
			t.when = t.when.Add(t.every)
			if t.when.Before(now) {
				t.when = now
			}
			heap.Fix(&l.timers, 0)
		} else {
			heap.Pop(&l.timers)
			delete(l.byID, t.id)
		}
		ran = true
		if _, err := t.fn(goja.Undefined(), t.args...); err != nil {
			return true, err
		}
	}
	return ran, nil
}

// call runs a posted callback. A JS exception panicking through it is
// turned into an error, as is one it returns.
func (l *loop) call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if v, ok := thrownValue(r); ok {
				err = &thrown{v}
				return
			}
			panic(r)
		}
	}()
	return fn()
}

// thrown is a JS value thrown through Go code outside a JS call.
type thrown struct{ v goja.Value }

func (t *thrown) Error() string { return describe(t.v) }

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].id < h[j].id
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)   { t := x.(*timer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
