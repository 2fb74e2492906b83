package cron_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/cron"
	"github.com/wisp-run/wisp/internal/cron/crontest"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// ticks is where the test schedulers hand ticks on: a stream that
// deduplicates by tick key, as the node's job stream does.
type ticks struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	mu     sync.Mutex
	calls  int // FireFunc calls, duplicates included
}

func newTicks(t *testing.T, st *store.Store) *ticks {
	t.Helper()
	s, err := st.JS.CreateOrUpdateStream(context.Background(), jetstream.StreamConfig{
		Name: "TICKS", Subjects: []string{"ticks.>"}, Duplicates: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &ticks{js: st.JS, stream: s}
}

func (tk *ticks) fire(js jetstream.JetStream) cron.FireFunc {
	return func(ctx context.Context, t cron.Tick) error {
		tk.mu.Lock()
		tk.calls++
		tk.mu.Unlock()
		_, err := js.Publish(ctx, "ticks."+t.Service, []byte(t.Cron+"@"+t.Time.Format(time.RFC3339)), jetstream.WithMsgID(t.Key()))
		return err
	}
}

// fired lists the ticks stored, in order.
func (tk *ticks) fired(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	info, err := tk.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := tk.stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Subject[len("ticks."):]+" "+string(m.Data))
	}
	sort.Strings(out)
	return out
}

func openKV(t *testing.T, st *store.Store) jetstream.KeyValue {
	t.Helper()
	kv, err := st.KV(context.Background(), jetstream.KeyValueConfig{Bucket: "triggers-test"})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

type node struct {
	clock  *crontest.Clock
	sched  *cron.Scheduler
	cancel context.CancelFunc
	done   chan struct{}
}

// startScheduler runs a scheduler with its own connection to url, as one
// node of a cluster would.
func startScheduler(t *testing.T, url string, tk *ticks, at time.Time) *node {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{NATSURL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	n := &node{clock: crontest.New(at), done: make(chan struct{})}
	n.sched = cron.New(cron.Config{KV: openKV(t, st), Clock: n.clock, Fire: tk.fire(st.JS)})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { defer close(n.done); n.sched.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	n.cancel()
	<-n.done
}

// settle waits until every node's scheduler has parked on its clock,
// waiting for a later tick.
func settle(t *testing.T, nodes ...*node) {
	t.Helper()
	poll.CheckFor(t, 10*time.Second, 2*time.Millisecond, func() error {
		for i, n := range nodes {
			if w := n.clock.Waiters(); w != 1 {
				return fmt.Errorf("node %d has %d waiters, want 1", i, w)
			}
		}
		return nil
	})
}

func setAll(at time.Time, nodes ...*node) {
	for _, n := range nodes {
		n.clock.Set(at)
	}
}

func checkFired(t *testing.T, tk *ticks, want ...string) {
	t.Helper()
	sort.Strings(want)
	poll.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		got := tk.fired(t)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("fired %q, want %q", got, want)
		}
		return nil
	})
}

func TestTwoNodesFireEachTickOnce(t *testing.T) {
	st, url := storetest.OpenExternal(t)
	tk := newTicks(t, st)
	t0 := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	a := startScheduler(t, url, tk, t0)
	b := startScheduler(t, url, tk, t0)
	ctx := context.Background()
	for _, n := range []*node{a, b} {
		n.sched.Set(ctx, "reports", []string{"* * * * *", "*/2 * * * *"})
		n.sched.Set(ctx, "billing", []string{"0 11 * * *"})
	}
	settle(t, a, b)
	if got := tk.fired(t); len(got) != 0 {
		t.Fatalf("a new schedule fired past ticks: %q", got)
	}
	var want []string
	for m := 1; m <= 61; m++ {
		at := t0.Truncate(time.Minute).Add(time.Duration(m) * time.Minute)
		// The nodes' clocks disagree by a little, as real ones do.
		a.clock.Set(at.Add(150 * time.Millisecond))
		b.clock.Set(at.Add(20 * time.Millisecond))
		want = append(want, "reports * * * * *@"+at.Format(time.RFC3339))
		if at.Minute()%2 == 0 {
			want = append(want, "reports */2 * * * *@"+at.Format(time.RFC3339))
		}
		if at.Hour() == 11 && at.Minute() == 0 {
			want = append(want, "billing 0 11 * * *@"+at.Format(time.RFC3339))
		}
		settle(t, a, b)
		checkFired(t, tk, want...)
	}
	tk.mu.Lock()
	defer tk.mu.Unlock()
	t.Logf("%d ticks fired once each; %d hand-offs by the two nodes", len(want), tk.calls)
}

func TestMissedTickFiresOnceAfterRestart(t *testing.T) {
	st, url := storetest.OpenExternal(t)
	tk := newTicks(t, st)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 59, 30, 0, time.UTC)
	a := startScheduler(t, url, tk, t0)
	a.sched.Set(ctx, "reports", []string{"* * * * *"})
	settle(t, a)
	a.clock.Set(t0.Add(30 * time.Second)) // 10:00
	settle(t, a)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:00:00Z")
	a.stop()

	// Down from 10:00:30 to 10:03:30: 10:01, 10:02 and 10:03 are missed.
	// The first node back fires the latest of them once.
	down := time.Date(2026, 3, 1, 10, 3, 30, 0, time.UTC)
	b := startScheduler(t, url, tk, down)
	b.sched.Set(ctx, "reports", []string{"* * * * *"})
	settle(t, b)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:00:00Z", "reports * * * * *@2026-03-01T10:03:00Z")

	// Restarting again does not fire it twice.
	b.stop()
	c := startScheduler(t, url, tk, down.Add(10*time.Second))
	c.sched.Set(ctx, "reports", []string{"* * * * *"})
	settle(t, c)
	c.clock.Set(time.Date(2026, 3, 1, 10, 4, 0, 0, time.UTC))
	settle(t, c)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:00:00Z", "reports * * * * *@2026-03-01T10:03:00Z", "reports * * * * *@2026-03-01T10:04:00Z")
}

func TestLateSchedulerFiresLatestTickOnly(t *testing.T) {
	st, url := storetest.OpenExternal(t)
	tk := newTicks(t, st)
	t0 := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	a := startScheduler(t, url, tk, t0)
	a.sched.Set(context.Background(), "reports", []string{"* * * * *"})
	settle(t, a)
	// The clock jumps five minutes (a suspended laptop): one run, not five.
	a.clock.Set(t0.Add(5 * time.Minute))
	settle(t, a)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:05:00Z")
}

func TestRemovedScheduleStartsAfreshWhenAddedBack(t *testing.T) {
	st, url := storetest.OpenExternal(t)
	tk := newTicks(t, st)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	a := startScheduler(t, url, tk, t0)
	a.sched.Set(ctx, "reports", []string{"* * * * *"})
	settle(t, a)
	a.clock.Set(t0.Add(30 * time.Second))
	settle(t, a)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:01:00Z")
	a.sched.Set(ctx, "reports", nil)      // deletes the record before it returns
	a.clock.Set(t0.Add(10 * time.Minute)) // 10:10:30: nothing scheduled
	a.sched.Set(ctx, "reports", []string{"* * * * *"})
	settle(t, a)
	a.clock.Set(time.Date(2026, 3, 1, 10, 11, 0, 0, time.UTC))
	settle(t, a)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:01:00Z", "reports * * * * *@2026-03-01T10:11:00Z")
}

func TestFailedHandOffIsRetried(t *testing.T) {
	st := storetest.Open(t)
	tk := newTicks(t, st)
	t0 := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	clock := crontest.New(t0)
	var mu sync.Mutex
	failures := 2
	inner := tk.fire(st.JS)
	s := cron.New(cron.Config{KV: openKV(t, st), Clock: clock, Fire: func(ctx context.Context, tick cron.Tick) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return fmt.Errorf("queue unavailable")
		}
		return inner(ctx, tick)
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	s.Set(ctx, "reports", []string{"* * * * *"})
	n := &node{clock: clock}
	settle(t, n)
	clock.Set(t0.Add(30 * time.Second))
	settle(t, n)
	clock.Advance(time.Second) // first retry fails too
	settle(t, n)
	clock.Advance(time.Second)
	settle(t, n)
	checkFired(t, tk, "reports * * * * *@2026-03-01T10:01:00Z")
}
