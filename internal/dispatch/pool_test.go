package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime"
)

var discard = slog.New(slog.DiscardHandler)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fetch(ctx context.Context, p *Pool, url string) error {
	return p.Fetch(ctx, &runtime.Request{ID: "req", Method: "GET", URL: url}, httptest.NewRecorder())
}

// fetchAsync runs fetch on a goroutine; its result arrives on the channel.
func fetchAsync(ctx context.Context, p *Pool, url string) <-chan error {
	c := make(chan error, 1)
	go func() { c <- fetch(ctx, p, url) }()
	return c
}

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
	}
	panic("unreachable")
}

func noViolations(t *testing.T, m *fakeModule) {
	t.Helper()
	if _, _, v := m.stats(); len(v) > 0 {
		t.Fatalf("pool broke its promises:\n%v", v)
	}
}

func waitWaiting(t *testing.T, p *Pool, n int) {
	t.Helper()
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if _, _, w := p.Counts(); w != n {
			return fmt.Errorf("%d callers waiting; want %d", w, n)
		}
		return nil
	})
}

// TestPoolHammer runs many goroutines through small pools, with guest
// errors of every kind, deadlines and prewarms mixed in.
func TestPoolHammer(t *testing.T) {
	tests := []struct {
		name          string
		max, maxQueue int
	}{
		{name: "queue holds everyone", max: 4, maxQueue: 1000},
		{name: "small queue", max: 3, maxQueue: 2},
		{name: "one instance", max: 1, maxQueue: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mod := &fakeModule{max: tc.max}
			mod.fetch = func(ctx context.Context, in *fakeInstance, req *runtime.Request) error {
				goruntime.Gosched()
				return kindErr(req.URL)
			}
			p := NewPool(mod, PoolConfig{Max: tc.max, MaxQueue: tc.maxQueue}, discard)
			urls := []string{"", "", "", "", "", "err:exception", "err:badresponse", "err:crash", "err:timeout", "err:host"}
			var discarded, overloaded atomic.Uint64
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 1))
					for range 60 {
						url := urls[rng.IntN(len(urls))]
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						if rng.IntN(8) == 0 {
							ctx, cancel = context.WithTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
						}
						err := fetch(ctx, p, url)
						cancel()
						switch {
						case errors.Is(err, ErrOverloaded):
							overloaded.Add(1)
						case (err == nil) != (url == ""):
							t.Errorf("fetch %q: err = %v", url, err)
						case runtime.MustDiscard(err):
							discarded.Add(1)
						}
					}
				})
			}
			wg.Go(func() { // prewarms and readers racing the calls
				for range 50 {
					if err := p.Prewarm(context.Background(), tc.max); err != nil {
						t.Errorf("prewarm: %v", err)
					}
					if total, idle, _ := p.Counts(); total > tc.max || idle > total {
						t.Errorf("Counts: %d alive, %d idle, max %d", total, idle, tc.max)
					}
					goruntime.Gosched()
				}
			})
			wg.Wait()

			noViolations(t, mod)
			if n := mod.maxRunning.Load(); n > int64(tc.max) {
				t.Fatalf("%d invocations ran at once; max %d", n, tc.max)
			}
			st := p.Stats()
			if st.Discarded.Load() != discarded.Load() || st.Rejected.Load() != overloaded.Load() {
				t.Fatalf("Stats: %d discarded, %d rejected; callers saw %d and %d",
					st.Discarded.Load(), st.Rejected.Load(), discarded.Load(), overloaded.Load())
			}
			total, idle, waiting := p.Counts()
			if total != idle || waiting != 0 || int64(total) != mod.alive.Load() || total > tc.max {
				t.Fatalf("at rest: Counts = %d, %d, %d with %d instances alive", total, idle, waiting, mod.alive.Load())
			}
			created, _, _ := mod.stats()
			t.Logf("%d instances created, %d discarded, %d rejected, %d cold starts", created, discarded.Load(), overloaded.Load(), st.ColdStarts.Load())
			p.Close()
			if n := mod.alive.Load(); n != 0 {
				t.Fatalf("%d instances alive after Close", n)
			}
			noViolations(t, mod)
		})
	}
}

func TestPoolOverloadedAndWaiting(t *testing.T) {
	g := newGate()
	mod := &fakeModule{max: 1, fetch: g.behave}
	p := NewPool(mod, PoolConfig{Max: 1, MaxQueue: 1}, discard)
	ctx := testCtx(t)

	busy := fetchAsync(ctx, p, "block")
	first := recv(t, g.entered, "first call")
	waiter := fetchAsync(ctx, p, "")
	waitWaiting(t, p, 1)

	// Every instance busy and the queue full: refused at once, without
	// waiting (the busy call only ends when the test says so).
	if err := fetch(ctx, p, ""); err != ErrOverloaded {
		t.Fatalf("fetch with a full queue: err = %v; want ErrOverloaded", err)
	}
	if n := p.Stats().Rejected.Load(); n != 1 {
		t.Fatalf("Rejected = %d; want 1", n)
	}

	// When the instance frees, the waiter gets it.
	close(g.release)
	if err := recv(t, busy, "busy call"); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, waiter, "waiter"); err != nil {
		t.Fatal(err)
	}
	if created, _, _ := mod.stats(); created != 1 || first.uses.Load() != 2 {
		t.Fatalf("%d instances created, first used %d times; want the waiter to reuse it", created, first.uses.Load())
	}
	if total, idle, waiting := p.Counts(); total != 1 || idle != 1 || waiting != 0 {
		t.Fatalf("Counts = %d, %d, %d; want 1, 1, 0", total, idle, waiting)
	}
	noViolations(t, mod)
}

func TestPoolWaiterContextEnds(t *testing.T) {
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		cancel bool // cancel once the caller waits
	}{
		{name: "deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}},
		{name: "canceled", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, cancel: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			mod := &fakeModule{max: 1, fetch: g.behave}
			p := NewPool(mod, PoolConfig{Max: 1}, discard)
			busy := fetchAsync(testCtx(t), p, "block")
			recv(t, g.entered, "busy call")

			ctx, cancel := tc.ctx()
			defer cancel()
			waiter := fetchAsync(ctx, p, "")
			if tc.cancel {
				waitWaiting(t, p, 1)
				cancel()
			}
			if err := recv(t, waiter, "waiter"); !errors.Is(err, ErrOverloaded) {
				t.Fatalf("waiter: err = %v; want ErrOverloaded", err)
			}
			waitWaiting(t, p, 0)
			if n := p.Stats().Rejected.Load(); n != 1 {
				t.Fatalf("Rejected = %d; want 1", n)
			}

			// A call whose context has already ended does not run the guest
			// (it would be interrupted at once and the instance lost).
			close(g.release)
			if err := recv(t, busy, "busy call"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			cancel()
			if err := fetch(ctx, p, ""); !errors.Is(err, ErrOverloaded) {
				t.Fatalf("fetch with an ended context: err = %v; want ErrOverloaded", err)
			}
			if err := fetch(testCtx(t), p, ""); err != nil {
				t.Fatal(err)
			}
			if total, _, _ := p.Counts(); total != 1 || p.Stats().Discarded.Load() != 0 {
				t.Fatalf("%d instances, %d discarded; want the one instance kept", total, p.Stats().Discarded.Load())
			}
			noViolations(t, mod)
		})
	}
}

func TestPoolErrorKinds(t *testing.T) {
	tests := []struct {
		url     string
		kind    runtime.ErrorKind
		isGuest bool // err is a *runtime.Error of kind
		discard bool
	}{
		{url: ""},
		{url: "err:exception", kind: runtime.Exception, isGuest: true},
		{url: "err:wrapped-exception", kind: runtime.Exception, isGuest: true},
		{url: "err:badresponse", kind: runtime.BadResponse, isGuest: true},
		{url: "err:timeout", kind: runtime.Timeout, isGuest: true, discard: true},
		{url: "err:crash", kind: runtime.Crash, isGuest: true, discard: true},
		{url: "err:host", discard: true},
		{url: "panic", discard: true},
	}
	for _, tc := range tests {
		t.Run(cmp.Or(tc.url, "ok"), func(t *testing.T) {
			g := newGate()
			mod := &fakeModule{max: 1, fetch: g.behave}
			p := NewPool(mod, PoolConfig{Max: 1}, discard)
			ctx := testCtx(t)
			if err := fetch(ctx, p, ""); err != nil {
				t.Fatal(err)
			}

			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				err = fetch(ctx, p, tc.url)
			}()
			var ge *runtime.Error
			switch {
			case tc.url == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.isGuest && (!errors.As(err, &ge) || ge.Kind != tc.kind):
				t.Fatalf("err = %v; want a *runtime.Error of kind %d", err, tc.kind)
			case tc.url != "" && err == nil:
				t.Fatal("no error")
			}

			wantDiscarded, wantCreated := uint64(0), 1
			if tc.discard {
				wantDiscarded, wantCreated = 1, 2
			}
			if n := p.Stats().Discarded.Load(); n != wantDiscarded {
				t.Fatalf("Discarded = %d; want %d", n, wantDiscarded)
			}
			// The next call reuses the instance or, with Max 1, can only
			// run if the discarded one gave its slot back.
			if err := fetch(ctx, p, ""); err != nil {
				t.Fatal(err)
			}
			created, closed, _ := mod.stats()
			if created != wantCreated || closed != wantCreated-1 {
				t.Fatalf("%d instances created, %d closed; want %d, %d", created, closed, wantCreated, wantCreated-1)
			}
			if total, idle, _ := p.Counts(); total != 1 || idle != 1 {
				t.Fatalf("Counts = %d alive, %d idle; want 1, 1", total, idle)
			}
			noViolations(t, mod)
		})
	}
}

func TestPoolPrewarm(t *testing.T) {
	tests := []struct {
		min, max, n int
		want        int
	}{
		{min: 0, max: 4, n: 0, want: 0},
		{min: 0, max: 4, n: 1, want: 1},
		{min: 2, max: 4, n: 0, want: 2},
		{min: 2, max: 4, n: 1, want: 2},
		{min: 2, max: 4, n: 3, want: 3},
		{min: 0, max: 4, n: 10, want: 4},
		{min: 6, max: 3, n: 0, want: 3},
		{min: 0, max: 0, n: 2, want: 1}, // Max 0 means 1
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("min%d max%d n%d", tc.min, tc.max, tc.n), func(t *testing.T) {
			mod := &fakeModule{max: max(tc.max, 1)}
			p := NewPool(mod, PoolConfig{Min: tc.min, Max: tc.max}, discard)
			for range 2 { // a second Prewarm has nothing to do
				if err := p.Prewarm(testCtx(t), tc.n); err != nil {
					t.Fatal(err)
				}
				if created, _, _ := mod.stats(); created != tc.want {
					t.Fatalf("%d instances created; want %d", created, tc.want)
				}
				if total, idle, _ := p.Counts(); total != tc.want || idle != tc.want {
					t.Fatalf("Counts = %d alive, %d idle; want %d", total, idle, tc.want)
				}
			}
			if n := p.Stats().ColdStarts.Load(); n != 0 {
				t.Fatalf("ColdStarts = %d after Prewarm; want 0", n)
			}
			noViolations(t, mod)
		})
	}
}

func TestPoolPrewarmError(t *testing.T) {
	mod := &fakeModule{max: 3}
	p := NewPool(mod, PoolConfig{Max: 3}, discard)
	ctx := testCtx(t)
	if err := p.Prewarm(ctx, 2); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("top-level code threw")
	mod.setNewErr(bad)
	if err := p.Prewarm(ctx, 3); !errors.Is(err, bad) {
		t.Fatalf("Prewarm: err = %v; want %v", err, bad)
	}
	if total, idle, _ := p.Counts(); total != 2 || idle != 2 {
		t.Fatalf("Counts = %d, %d; want the 2 instances made before the error", total, idle)
	}
	// No slot was lost: three calls at once still run.
	mod.setNewErr(nil)
	g := newGate()
	mod.fetch = g.behave
	var calls []<-chan error
	for range 3 {
		calls = append(calls, fetchAsync(ctx, p, "block"))
	}
	for range 3 {
		recv(t, g.entered, "call")
	}
	close(g.release)
	for _, c := range calls {
		if err := recv(t, c, "call"); err != nil {
			t.Fatal(err)
		}
	}
	noViolations(t, mod)
}

func TestPoolNewInstanceFailureFreesSlot(t *testing.T) {
	bad := errors.New("out of memory")
	block := make(chan struct{})
	mod := &fakeModule{max: 1, newBlock: block, newErr: bad}
	p := NewPool(mod, PoolConfig{Max: 1}, discard)
	ctx := testCtx(t)

	first := fetchAsync(ctx, p, "") // takes the only slot, blocks in NewInstance
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if total, _, _ := p.Counts(); total != 1 {
			return fmt.Errorf("%d instances alive or starting; want 1", total)
		}
		return nil
	})
	second := fetchAsync(ctx, p, "")
	waitWaiting(t, p, 1)

	// The first creation fails (with the error it read before blocking);
	// its slot goes to the waiter, whose own creation succeeds.
	mod.mu.Lock()
	mod.newBlock, mod.newErr = nil, nil
	mod.mu.Unlock()
	close(block)
	if err := recv(t, first, "first call"); !errors.Is(err, bad) {
		t.Fatalf("first call: err = %v; want %v", err, bad)
	}
	if err := recv(t, second, "second call"); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if total, idle, waiting := p.Counts(); total != 1 || idle != 1 || waiting != 0 {
		t.Fatalf("Counts = %d, %d, %d; want 1, 1, 0", total, idle, waiting)
	}
	if n := p.Stats().ColdStarts.Load(); n != 1 {
		t.Fatalf("ColdStarts = %d; want 1", n)
	}
	noViolations(t, mod)
}

func TestPoolClose(t *testing.T) {
	g := newGate()
	mod := &fakeModule{max: 3, fetch: g.behave}
	p := NewPool(mod, PoolConfig{Max: 3, MaxQueue: 4}, discard)
	ctx := testCtx(t)

	busy := fetchAsync(ctx, p, "block")
	busyInst := recv(t, g.entered, "busy call")
	if err := p.Prewarm(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if total, idle, _ := p.Counts(); total != 3 || idle != 2 {
		t.Fatalf("Counts = %d, %d; want 3 alive, 2 idle", total, idle)
	}

	p.Close()
	if created, closed, _ := mod.stats(); created != 3 || closed != 2 || busyInst.closed.Load() {
		t.Fatalf("after Close: %d created, %d closed, busy one closed: %v; want the 2 idle ones closed", created, closed, busyInst.closed.Load())
	}
	if err := fetch(ctx, p, ""); err != ErrClosed {
		t.Fatalf("fetch after Close: err = %v; want ErrClosed", err)
	}
	if err := p.Prewarm(ctx, 3); err != nil {
		t.Fatalf("Prewarm after Close: %v", err)
	}
	p.Close() // again: harmless

	close(g.release)
	if err := recv(t, busy, "busy call"); err != nil {
		t.Fatal(err)
	}
	if created, closed, _ := mod.stats(); created != 3 || closed != 3 {
		t.Fatalf("after the busy call: %d created, %d closed; want all 3 closed", created, closed)
	}
	if total, idle, waiting := p.Counts(); total != 0 || idle != 0 || waiting != 0 {
		t.Fatalf("Counts = %d, %d, %d; want 0, 0, 0", total, idle, waiting)
	}
	noViolations(t, mod)
}

// TestPoolCloseWhileFull: when every instance is busy, callers waiting and
// later callers get ErrClosed at once, not after the busy calls end.
func TestPoolCloseWhileFull(t *testing.T) {
	g := newGate()
	mod := &fakeModule{max: 1, fetch: g.behave}
	p := NewPool(mod, PoolConfig{Max: 1, MaxQueue: 1}, discard)
	ctx := testCtx(t)
	busy := fetchAsync(ctx, p, "block")
	recv(t, g.entered, "busy call")
	waiter := fetchAsync(ctx, p, "")
	waitWaiting(t, p, 1)

	p.Close()
	if err := recv(t, waiter, "waiter"); err != ErrClosed {
		t.Fatalf("waiter: err = %v; want ErrClosed", err)
	}
	if err := fetch(ctx, p, ""); err != ErrClosed {
		t.Fatalf("fetch after Close: err = %v; want ErrClosed", err)
	}
	waitWaiting(t, p, 0)

	close(g.release)
	if err := recv(t, busy, "busy call"); err != nil {
		t.Fatal(err)
	}
	if n := mod.alive.Load(); n != 0 {
		t.Fatalf("%d instances alive", n)
	}
	noViolations(t, mod)
}
