package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime"
)

func wantCounts(t *testing.T, p *Pool, total, idle, waiting int) {
	t.Helper()
	if a, b, c := p.Counts(); a != total || b != idle || c != waiting {
		t.Fatalf("Counts = %d alive, %d idle, %d waiting; want %d, %d, %d", a, b, c, total, idle, waiting)
	}
}

// TestPoolKeepAlive: idle instances above Min stop after the keep-alive
// (down to zero by default) and the next call still succeeds.
func TestPoolKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		min, busy int
	}{
		{name: "scale to zero", min: 0, busy: 1},
		{name: "scale to zero from three", min: 0, busy: 3},
		{name: "down to min", min: 2, busy: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newGate()
				mod := &fakeModule{max: 4, fetch: g.behave}
				p := NewPool(mod, PoolConfig{Min: tc.min, Max: 4, KeepAlive: 10 * time.Second}, discard)
				defer p.Close()
				if err := p.Prewarm(t.Context(), 0); err != nil {
					t.Fatal(err)
				}
				var calls []<-chan error
				for range tc.busy {
					calls = append(calls, fetchAsync(t.Context(), p, "block"))
				}
				for range tc.busy {
					<-g.entered
				}
				close(g.release)
				for _, c := range calls {
					if err := <-c; err != nil {
						t.Fatal(err)
					}
				}
				alive := max(tc.busy, tc.min)
				wantCounts(t, p, alive, alive, 0)

				time.Sleep(9 * time.Second) // not yet
				synctest.Wait()
				wantCounts(t, p, alive, alive, 0)
				time.Sleep(2 * time.Second)
				synctest.Wait()
				wantCounts(t, p, tc.min, tc.min, 0)
				if n := p.Stats().Expired.Load(); n != uint64(alive-tc.min) {
					t.Fatalf("Expired = %d; want %d", n, alive-tc.min)
				}
				if n := mod.alive.Load(); n != int64(tc.min) {
					t.Fatalf("%d instances alive; want %d", n, tc.min)
				}

				// The next call is served (a cold start only when at zero).
				before := p.Stats().ColdStarts.Load()
				if err := fetch(t.Context(), p, ""); err != nil {
					t.Fatal(err)
				}
				cold := p.Stats().ColdStarts.Load() - before
				if want := uint64(0); tc.min == 0 && cold != 1 || tc.min > 0 && cold != want {
					t.Fatalf("%d cold starts for the call after scaling down to %d", cold, tc.min)
				}
				noViolations(t, mod)
			})
		})
	}
}

// TestPoolKeepAliveRearms: an instance used again is not stopped on the
// schedule of its earlier idle period.
func TestPoolKeepAliveRearms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mod := &fakeModule{max: 1}
		p := NewPool(mod, PoolConfig{Max: 1, KeepAlive: 10 * time.Second}, discard)
		defer p.Close()
		for range 5 {
			if err := fetch(t.Context(), p, ""); err != nil {
				t.Fatal(err)
			}
			time.Sleep(6 * time.Second)
			synctest.Wait()
			wantCounts(t, p, 1, 1, 0)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		wantCounts(t, p, 0, 0, 0)
		if created, _, _ := mod.stats(); created != 1 {
			t.Fatalf("%d instances created; want 1", created)
		}
	})
}

func TestPoolRecycle(t *testing.T) {
	tests := []struct {
		name        string
		cfg         PoolConfig
		calls       int
		wantCreated int
		wantClosed  int // all recycled
	}{
		{name: "after 3 requests", cfg: PoolConfig{Max: 1, MaxRequests: 3}, calls: 7, wantCreated: 3, wantClosed: 2},
		{name: "after 1 request", cfg: PoolConfig{Max: 1, MaxRequests: 1}, calls: 4, wantCreated: 4, wantClosed: 4},
		{name: "memory growth", cfg: PoolConfig{Max: 1, MaxMemory: 250}, calls: 7, wantCreated: 3, wantClosed: 2}, // 100 bytes a use
		{name: "never", cfg: PoolConfig{Max: 1}, calls: 7, wantCreated: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mod := &fakeModule{max: 1, memPerUse: 100}
			p := NewPool(mod, tc.cfg, discard)
			for range tc.calls {
				if err := fetch(testCtx(t), p, ""); err != nil {
					t.Fatal(err)
				}
			}
			created, closed, _ := mod.stats()
			if created != tc.wantCreated || closed != tc.wantClosed {
				t.Fatalf("%d created, %d closed; want %d, %d", created, closed, tc.wantCreated, tc.wantClosed)
			}
			if n := p.Stats().Recycled.Load(); n != uint64(tc.wantClosed) {
				t.Fatalf("Recycled = %d; want %d", n, tc.wantClosed)
			}
			noViolations(t, mod)
		})
	}
}

// TestPoolRefillsToMin: an instance thrown away is replaced in the
// background so min_instances stay warm.
func TestPoolRefillsToMin(t *testing.T) {
	mod := &fakeModule{max: 2}
	mod.fetch = func(ctx context.Context, in *fakeInstance, req *runtime.Request) error { return kindErr(req.URL) }
	p := NewPool(mod, PoolConfig{Min: 2, Max: 2}, discard)
	if err := p.Prewarm(testCtx(t), 0); err != nil {
		t.Fatal(err)
	}
	if err := fetch(testCtx(t), p, "err:crash"); err == nil {
		t.Fatal("no error")
	}
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if total, idle, _ := p.Counts(); total != 2 || idle != 2 {
			return fmt.Errorf("Counts = %d alive, %d idle; want 2, 2", total, idle)
		}
		return nil
	})
	if c := p.Stats().Load(); c.Discarded != 1 || c.Prewarmed != 3 || c.ColdStarts != 0 {
		t.Fatalf("counters %+v; want 1 discarded, 3 prewarmed, no cold start", c)
	}
	p.Close()
	noViolations(t, mod)
}

// TestPoolRetireMovesWaiters: when a new version replaces a pool, callers
// waiting on the old one are served by the new one, in-flight calls finish
// on the old one, and the old module closes once it drained.
func TestPoolRetireMovesWaiters(t *testing.T) {
	g := newGate()
	oldMod := &fakeModule{max: 1, fetch: g.behave}
	old := NewPool(oldMod, PoolConfig{Max: 1, MaxQueue: 8}, discard)
	newMod := &fakeModule{max: 2}
	next := NewPool(newMod, PoolConfig{Max: 2, MaxQueue: 8}, discard)
	defer next.Close()
	ctx := testCtx(t)

	busy := fetchAsync(ctx, old, "block")
	recv(t, g.entered, "busy call")
	var waiters []<-chan error
	for range 3 {
		waiters = append(waiters, fetchAsync(ctx, old, ""))
	}
	waitWaiting(t, old, 3)

	old.Retire(next)
	for _, w := range waiters {
		if err := recv(t, w, "waiter"); err != nil {
			t.Fatalf("waiter: %v; want it served by the new version", err)
		}
	}
	if err := fetch(ctx, old, ""); err != nil {
		t.Fatalf("call on the retired pool: %v; want it served by the new version", err)
	}
	if n := next.Stats().Invocations.Load(); n != 4 {
		t.Fatalf("new version ran %d invocations; want 4", n)
	}
	select {
	case <-old.Drained():
		t.Fatal("old pool drained while a call was in flight")
	default:
	}
	close(g.release)
	if err := recv(t, busy, "busy call"); err != nil {
		t.Fatalf("in-flight call on the old version: %v", err)
	}
	recv(t, chanOf(old.Drained()), "old pool drained")
	if !oldMod.closed.Load() {
		t.Fatal("old module not closed after its pool drained")
	}
	noViolations(t, oldMod)
	noViolations(t, newMod)
}

func chanOf(c <-chan struct{}) <-chan struct{} { return c }

// TestBudgetHammer: many pools sharing a small budget never exceed it, and
// every caller is served (none waits forever).
func TestBudgetHammer(t *testing.T) {
	const units = 5
	b := NewBudget(units, 0)
	var alive, maxAlive atomic.Int64
	var pools []*Pool
	var mods []*fakeModule
	for i := range 6 {
		mod := &fakeModule{max: 4}
		mod.onNew = func() {
			n := alive.Add(1)
			for {
				m := maxAlive.Load()
				if n <= m || maxAlive.CompareAndSwap(m, n) {
					break
				}
			}
		}
		mod.onClose = func() { alive.Add(-1) }
		mod.fetch = func(ctx context.Context, in *fakeInstance, req *runtime.Request) error {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			return kindErr(req.URL)
		}
		mods = append(mods, mod)
		pools = append(pools, NewPool(mod, PoolConfig{Max: 4, MaxQueue: 100, Budget: b, KeepAlive: time.Duration(i) * time.Millisecond}, discard))
	}
	var wg sync.WaitGroup
	var served atomic.Int64
	for g := range 24 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for range 40 {
				p := pools[rng.IntN(len(pools))]
				url := ""
				if rng.IntN(10) == 0 {
					url = "err:crash"
				}
				if err := fetch(testCtx(t), p, url); err != nil && url == "" {
					t.Errorf("fetch: %v", err)
				}
				served.Add(1)
			}
		})
	}
	wg.Wait()
	if m := maxAlive.Load(); m > units {
		t.Fatalf("%d instances alive at once; budget %d", m, units)
	}
	if s := b.Snapshot(); s.Instances != int(alive.Load()) || s.Waiting != 0 {
		t.Fatalf("budget %+v with %d instances alive", s, alive.Load())
	}
	for i, p := range pools {
		p.Close()
		noViolations(t, mods[i])
	}
	if s := b.Snapshot(); s.Instances != 0 || s.Pools != 0 {
		t.Fatalf("after Close: budget %+v; want empty", s)
	}
	t.Logf("%d calls served, at most %d instances alive", served.Load(), maxAlive.Load())
}

// TestBudgetFairShare: a service saturating the whole budget does not stop
// another from being served: the other gets a unit as soon as one of the
// saturated service's invocations ends.
func TestBudgetFairShare(t *testing.T) {
	b := NewBudget(4, 0)
	g := newGate()
	hotMod := &fakeModule{fetch: g.behave}
	hot := NewPool(hotMod, PoolConfig{Max: 10, MaxQueue: 100, Budget: b}, discard)
	coldMod := &fakeModule{}
	cold := NewPool(coldMod, PoolConfig{Max: 2, Budget: b}, discard)
	ctx := testCtx(t)

	var hotCalls []<-chan error
	for range 8 {
		hotCalls = append(hotCalls, fetchAsync(ctx, hot, "block"))
	}
	for range 4 {
		recv(t, g.entered, "hot call")
	}
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if s := b.Snapshot(); s.Instances != 4 || s.Waiting != 4 {
			return fmt.Errorf("budget %+v; want 4 units held, 4 hot callers waiting", s)
		}
		return nil
	})

	other := fetchAsync(ctx, cold, "")
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if s := b.Snapshot(); s.Waiting != 5 {
			return fmt.Errorf("budget %+v; want the other service waiting too", s)
		}
		return nil
	})
	g.release <- struct{}{} // one hot invocation ends
	if err := recv(t, other, "the other service"); err != nil {
		t.Fatalf("other service: %v", err)
	}
	if n := hot.Stats().Evicted.Load(); n != 1 {
		t.Fatalf("hot pool stopped %d instances for the other; want 1", n)
	}
	close(g.release)
	for _, c := range hotCalls {
		if err := recv(t, c, "hot call"); err != nil {
			t.Fatal(err)
		}
	}
	hot.Close()
	cold.Close()
	noViolations(t, hotMod)
	noViolations(t, coldMod)
}

// TestBudgetEvictsIdle: a full budget of idle instances gives way to a
// service that needs one: the longest-idle instance of the biggest holder
// stops.
func TestBudgetEvictsIdle(t *testing.T) {
	b := NewBudget(3, 0)
	aMod, bMod, cMod := &fakeModule{}, &fakeModule{}, &fakeModule{}
	a := NewPool(aMod, PoolConfig{Max: 3, Budget: b}, discard)
	bp := NewPool(bMod, PoolConfig{Min: 1, Max: 3, Budget: b}, discard)
	c := NewPool(cMod, PoolConfig{Max: 3, Budget: b}, discard)
	ctx := testCtx(t)
	if err := a.Prewarm(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := bp.Prewarm(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := fetch(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	// c's first instance evicted one of a's two; its second call reused
	// its own. b's one instance is its min and is never evicted.
	wantCounts(t, a, 1, 1, 0)
	wantCounts(t, bp, 1, 1, 0)
	wantCounts(t, c, 1, 1, 0)
	if err := fetch(ctx, bp, ""); err != nil {
		t.Fatal(err)
	}
	if s := b.Snapshot(); s.Instances != 3 {
		t.Fatalf("budget %+v; want 3 units held", s)
	}
	for _, p := range []*Pool{a, bp, c} {
		p.Close()
	}
}

func TestBudgetMemory(t *testing.T) {
	b := NewBudget(0, 250)
	mod := &fakeModule{max: 2}
	g := newGate()
	mod.fetch = g.behave
	p := NewPool(mod, PoolConfig{Max: 5, Memory: 100, Budget: b}, discard)
	ctx := testCtx(t)
	var calls []<-chan error
	for range 3 {
		calls = append(calls, fetchAsync(ctx, p, "block"))
	}
	recv(t, g.entered, "call")
	recv(t, g.entered, "call")
	poll.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		if s := b.Snapshot(); s.Memory != 200 || s.Waiting != 1 {
			return fmt.Errorf("budget %+v; want 200 bytes reserved and one caller waiting", s)
		}
		return nil
	})
	close(g.release)
	for _, c := range calls {
		if err := recv(t, c, "call"); err != nil {
			t.Fatal(err)
		}
	}
	big := NewPool(&fakeModule{}, PoolConfig{Max: 1, Memory: 300, Budget: b}, discard)
	if err := fetch(ctx, big, ""); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("instance larger than the budget: err = %v; want ErrOverloaded", err)
	}
	p.Close()
	big.Close()
	noViolations(t, mod)
}

// TestBudgetWaiterDeadline: a caller waiting for budget gives up with
// ErrOverloaded at its deadline and leaves nothing behind.
func TestBudgetWaiterDeadline(t *testing.T) {
	b := NewBudget(1, 0)
	g := newGate()
	a := NewPool(&fakeModule{fetch: g.behave}, PoolConfig{Max: 1, Budget: b}, discard)
	c := NewPool(&fakeModule{}, PoolConfig{Max: 1, Budget: b}, discard)
	busy := fetchAsync(testCtx(t), a, "block")
	recv(t, g.entered, "busy call")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := fetch(ctx, c, ""); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err = %v; want ErrOverloaded", err)
	}
	if s := b.Snapshot(); s.Waiting != 0 || s.Instances != 1 {
		t.Fatalf("budget %+v; want one unit held, nobody waiting", s)
	}
	wantCounts(t, c, 0, 0, 0)
	close(g.release)
	if err := recv(t, busy, "busy call"); err != nil {
		t.Fatal(err)
	}
	if err := fetch(testCtx(t), c, ""); err != nil {
		t.Fatal(err)
	}
	a.Close()
	c.Close()
}
