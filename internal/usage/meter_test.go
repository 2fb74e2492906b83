package usage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store/storetest"
	"github.com/wisp-run/wisp/internal/usage"
)

// clock is a settable time for day boundaries.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func day(s string) time.Time      { t, _ := time.Parse("2006-01-02 15:04", s); return t }
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestAddsUp: what many goroutines count is what a query returns, before
// and after it is stored, per service and per day; a restart (a new meter
// on the same store) keeps it and goes on from it.
func TestAddsUp(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenDir(t, dir)
	clk := newClock(day("2026-11-24 23:59"))
	cfg := usage.Config{Node: "n1", Every: time.Hour, Now: clk.now} // flushed by hand
	m, err := usage.Open(ctxT(t), st.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cart, inv := m.Counter("cart", 128), m.Counter("inventory", 256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				cart.Add(time.Duration(i+g)*time.Microsecond, time.Duration(i)*time.Microsecond/2)
				cart.AddEgress(10)
				if i%4 == 0 {
					inv.Add(time.Millisecond, 0)
				}
			}
		})
	}
	wg.Wait()
	var wantWall, wantCPU uint64
	for g := range 8 {
		for i := range 1000 {
			wantWall += uint64((i + g) * 1000)
			wantCPU += uint64(i * 1000 / 2)
		}
	}
	wantCart := usage.Totals{Invocations: 8000, WallNS: wantWall, CPUNS: wantCPU, MemoryMBNS: 128 * wantWall, EgressBytes: 80000}
	wantInv := usage.Totals{Invocations: 2000, WallNS: 2000 * 1e6, MemoryMBNS: 256 * 2000 * 1e6}

	check := func(m *usage.Meter, q usage.Query, want ...usage.Row) {
		t.Helper()
		got, err := m.Query(ctxT(t), q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("query %+v:\n got %+v\nwant %+v", q, got, want)
		}
	}
	since := day("2026-11-20 00:00")
	// Not stored yet: counted as today's.
	check(m, usage.Query{Since: since}, usage.Row{Day: "2026-11-24", Service: "cart", Totals: wantCart}, usage.Row{Day: "2026-11-24", Service: "inventory", Totals: wantInv})
	if err := m.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	check(m, usage.Query{Since: since, Service: "cart"}, usage.Row{Day: "2026-11-24", Service: "cart", Totals: wantCart})

	// The next day: new keys; yesterday's stay.
	clk.set(day("2026-11-25 00:01"))
	cart.Add(time.Second, time.Millisecond)
	if err := m.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	one := usage.Totals{Invocations: 1, WallNS: 1e9, CPUNS: 1e6, MemoryMBNS: 128e9}
	check(m, usage.Query{Since: since, Service: "cart"},
		usage.Row{Day: "2026-11-24", Service: "cart", Totals: wantCart}, usage.Row{Day: "2026-11-25", Service: "cart", Totals: one})
	check(m, usage.Query{Since: day("2026-11-25 12:00"), Service: "cart"}, usage.Row{Day: "2026-11-25", Service: "cart", Totals: one})
	cart.Add(time.Second, time.Millisecond)
	cart.Close()
	if err := m.Close(); err != nil { // stores what is left
		t.Fatal(err)
	}

	// A restart: a new meter on the same store goes on from what was stored.
	m2, err := usage.Open(ctxT(t), st.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	two := one
	two.Add(one)
	check(m2, usage.Query{Since: day("2026-11-25 00:00"), Service: "cart"}, usage.Row{Day: "2026-11-25", Service: "cart", Totals: two})
	c2 := m2.Counter("cart", 128)
	c2.Add(time.Second, time.Millisecond)
	if err := m2.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	three := two
	three.Add(one)
	check(m2, usage.Query{Since: day("2026-11-25 00:00"), Service: "cart"}, usage.Row{Day: "2026-11-25", Service: "cart", Totals: three})

	// Another node's keys add up with ours.
	m3, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: "n2", Every: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close()
	m3.Counter("cart", 128).Add(time.Second, time.Millisecond)
	if err := m3.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	four := three
	four.Add(one)
	check(m2, usage.Query{Since: day("2026-11-25 00:00"), Service: "cart"}, usage.Row{Day: "2026-11-25", Service: "cart", Totals: four})
}

// TestPeriodicFlush: without a query or a close, growth reaches the store
// within the period, where another node sees it.
func TestPeriodicFlush(t *testing.T) {
	st := storetest.Open(t)
	m, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: "a", Every: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	other, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: "b", Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	m.Counter("svc", 64).Add(time.Millisecond, 0)
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		rows, err := other.Query(ctxT(t), usage.Query{Since: time.Now()})
		if err != nil {
			return err
		}
		if len(rows) != 1 || rows[0].Invocations != 1 {
			return fmt.Errorf("rows %+v", rows)
		}
		return nil
	})
}

func TestBadNode(t *testing.T) {
	st := storetest.Open(t)
	for _, node := range []string{"", "a.b", "a*", "x y"} {
		if _, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: node}); err == nil {
			t.Errorf("node %q accepted", node)
		}
	}
}

// TestManyServices: one flush stores the growth of more services than it
// keeps in flight at once; a flush the store refuses keeps the growth
// pending, and the next one stores it, counted once.
func TestManyServices(t *testing.T) {
	st := storetest.Open(t)
	clk := newClock(day("2026-11-26 10:00"))
	m, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: "a", Every: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reader, err := usage.Open(ctxT(t), st.JS, usage.Config{Node: "b", Every: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	const n = 700
	counters := make([]*usage.Counter, n)
	for i := range counters {
		counters[i] = m.Counter(fmt.Sprintf("svc%03d", i), 64)
		for range i + 1 {
			counters[i].Add(time.Millisecond, 0)
		}
	}
	if err := m.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Stored: another node's meter (nothing pending of its own) reads it.
	stored := func(extra uint64) {
		t.Helper()
		rows, err := reader.Query(ctxT(t), usage.Query{Since: clk.now()})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n {
			t.Fatalf("%d rows, want %d", len(rows), n)
		}
		for i, r := range rows {
			if want := uint64(i+1) + extra; r.Service != fmt.Sprintf("svc%03d", i) || r.Invocations != want {
				t.Fatalf("row %d: %+v, want %d invocations", i, r, want)
			}
		}
	}
	stored(0)

	// The store refuses every put: the flush fails, nothing is lost.
	stream, err := st.JS.Stream(ctxT(t), "KV_"+usage.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	small := cfg
	small.MaxMsgSize = 8
	if _, err := st.JS.UpdateStream(ctxT(t), small); err != nil {
		t.Fatal(err)
	}
	for _, c := range counters {
		c.Add(time.Millisecond, 0)
	}
	if err := m.Flush(ctxT(t)); err == nil {
		t.Fatal("a flush the store refused reported no error")
	}
	stored(0)
	rows, err := m.Query(ctxT(t), usage.Query{Since: clk.now(), Service: "svc000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Invocations != 2 {
		t.Fatalf("pending growth lost: %+v", rows)
	}
	if _, err := st.JS.UpdateStream(ctxT(t), cfg); err != nil {
		t.Fatal(err)
	}
	if err := m.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	stored(1)
}

// BenchmarkFlush is one flush of 1,000 services' growth, what a node with
// all of them active stores every second:
//
//	go test ./internal/usage -run XXX -bench Flush -benchtime 20x
func BenchmarkFlush(b *testing.B) {
	st := storetest.Open(b)
	m, err := usage.Open(context.Background(), st.JS, usage.Config{Node: "a", Every: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	counters := make([]*usage.Counter, 1000)
	for i := range counters {
		counters[i] = m.Counter(fmt.Sprintf("svc%04d", i), 64)
	}
	for b.Loop() {
		for _, c := range counters {
			c.Add(time.Millisecond, 0)
		}
		if err := m.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
