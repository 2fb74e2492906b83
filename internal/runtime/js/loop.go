package js

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/dop251/goja"
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
	vm    *goja.Runtime
	drain goja.Callable // a no-op JS function: calling it runs queued promise jobs

	mu     sync.Mutex
	queue  []posted // callbacks posted by host goroutines
	wake   chan struct{}
	gen    uint64 // invocation generation; posts from older ones are dropped
	holds  int    // async host operations that will post exactly once
	timers timerHeap
	byID   map[int64]*timer
	nextID int64
	clock  *time.Timer
}

type posted struct {
	gen uint64
	fn  func()
}

type timer struct {
	id       int64
	when     time.Time
	every    time.Duration // > 0 for setInterval
	fn       goja.Callable
	index    int
	canceled bool
}

func newLoop(vm *goja.Runtime) *loop {
	drain, _ := goja.AssertFunction(vm.ToValue(func() {}))
	return &loop{vm: vm, drain: drain, wake: make(chan struct{}, 1), byID: map[int64]*timer{}}
}

// begin starts an invocation.
func (l *loop) begin() {
	l.mu.Lock()
	l.gen++
	l.mu.Unlock()
}

// end finishes an invocation: pending timers and posts are dropped.
func (l *loop) end() {
	l.mu.Lock()
	l.gen++
	l.queue = l.queue[:0]
	l.holds = 0
	l.mu.Unlock()
	l.timers = l.timers[:0]
	clear(l.byID)
	if l.clock != nil {
		l.clock.Stop()
	}
}

// hold registers an asynchronous host operation. The returned function
// must be called exactly once, from any goroutine, with the callback to
// run on the loop; calls after the first are ignored.
func (l *loop) hold() func(func()) {
	l.mu.Lock()
	gen := l.gen
	l.holds++
	l.mu.Unlock()
	var once sync.Once
	return func(fn func()) {
		once.Do(func() {
			l.mu.Lock()
			if l.gen == gen {
				l.queue = append(l.queue, posted{gen: gen, fn: fn})
			}
			l.mu.Unlock()
			select {
			case l.wake <- struct{}{}:
			default:
			}
		})
	}
}

func (l *loop) setTimer(fn goja.Callable, delay float64, repeat bool) int64 {
	d := time.Duration(delay * float64(time.Millisecond))
	if d < 0 {
		d = 0
	}
	l.nextID++
	t := &timer{id: l.nextID, when: time.Now().Add(d), fn: fn}
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
	for _, p := range q {
		if err := l.call(p.fn); err != nil {
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
			t.when = now.Add(t.every)
			heap.Fix(&l.timers, 0)
		} else {
			heap.Pop(&l.timers)
			delete(l.byID, t.id)
		}
		ran = true
		if _, err := t.fn(goja.Undefined()); err != nil {
			return true, err
		}
	}
	return ran, nil
}

// call runs a Go callback that calls into JS, turning a JS exception
// panicking through it into an error.
func (l *loop) call(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if ex, ok := r.(*goja.Exception); ok {
				err = ex
				return
			}
			panic(r)
		}
	}()
	fn()
	return nil
}

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
