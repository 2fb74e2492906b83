package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func TestSendAndConsume(t *testing.T) {
	q := newQueues(t)
	before := time.Now().Add(-time.Millisecond)
	sent, err := q.Send(context.Background(), "orders", []binding.Message{
		{Body: []byte(`{"order":1}`), DelaySeconds: -1},
		{Body: []byte("two"), ContentType: "text", DelaySeconds: -1},
		{Body: []byte{0, 1, 2}, ContentType: "bytes", DelaySeconds: -1},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 || sent[0].ID == sent[1].ID || len(sent[0].ID) != 32 {
		t.Fatalf("sent ids %v: want 3 distinct 32-character ids", sent)
	}
	if s := stats(t, q, "orders"); s.Messages != 3 {
		t.Fatalf("stats before consuming: %+v", s)
	}
	rec := &recorder{}
	start(t, q, queue.Consumer{Queue: "orders", Policy: queue.Policy{MaxBatchSize: 10, MaxBatchTimeout: 200 * time.Millisecond}, Handler: rec.handle})
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, emptyQueue(q, "orders"))
	got := rec.snapshot()
	if len(got) != 3 {
		t.Fatalf("handled %d messages, want 3: %+v", len(got), got)
	}
	want := []struct{ body, ct string }{{`{"order":1}`, "json"}, {"two", "text"}, {"\x00\x01\x02", "bytes"}}
	for i, d := range got {
		if d.id != sent[i].ID || d.body != want[i].body || d.contentType != want[i].ct || d.attempts != 1 {
			t.Errorf("message %d: %+v, want id %s body %q type %s attempts 1", i, d, sent[i].ID, want[i].body, want[i].ct)
		}
		if d.timestamp.Before(before) || d.timestamp.After(time.Now()) {
			t.Errorf("message %d: timestamp %v is not when it was sent", i, d.timestamp)
		}
		if d.batchSize != 3 {
			t.Errorf("message %d came in a batch of %d, want all 3 together", i, d.batchSize)
		}
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	q := newQueues(t)
	big := make([]byte, queue.MaxMessageBytes+1)
	many := make([]binding.Message, queue.MaxBatchMessages+1)
	for i := range many {
		many[i] = binding.Message{Body: []byte("x")}
	}
	heavy := make([]binding.Message, 3)
	for i := range heavy {
		heavy[i] = binding.Message{Body: make([]byte, 100<<10)}
	}
	tests := []struct {
		name    string
		queue   string
		msgs    []binding.Message
		wantErr string
	}{
		{"bad queue name", "Orders!", []binding.Message{{Body: []byte("x")}}, `"Orders!" is not a valid queue name`},
		{"nothing", "orders", nil, "no messages to send"},
		{"too big", "orders", []binding.Message{{Body: big}}, "body is 131073 bytes; a queue message may be at most 131072 bytes"},
		{"too many", "orders", many, "101 messages in one batch; at most 100"},
		{"batch too heavy", "orders", heavy, "the batch is 307200 bytes; a batch may be at most 262144 bytes"},
		{"v8", "orders", []binding.Message{{Body: []byte("x"), ContentType: "v8"}}, `contentType "v8" (V8 serialization) is not supported by wisp`},
		{"unknown type", "orders", []binding.Message{{Body: []byte("x"), ContentType: "xml"}}, `contentType "xml" is not one of`},
		{"delay too long", "orders", []binding.Message{{Body: []byte("x"), DelaySeconds: 43201}}, "delaySeconds 43201 is more than 43200"},
		{"second message named", "orders", []binding.Message{{Body: []byte("x")}, {Body: big}}, "message 1: body is 131073 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.Send(context.Background(), tt.queue, tt.msgs, 0)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, queue.ErrInvalid) {
				t.Fatalf("Send: %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
	all, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Fatalf("refused sends stored something: %+v", all)
	}
}

func TestDelayedSend(t *testing.T) {
	q := newQueues(t)
	sentAt := time.Now()
	if _, err := q.Send(context.Background(), "later", []binding.Message{{Body: []byte("default delay"), DelaySeconds: -1}, {Body: []byte("now"), DelaySeconds: 0}}, 1); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, q, "later"); s.Delayed != 1 || s.Messages != 1 {
		t.Fatalf("stats after send: %+v, want 1 delayed and 1 ready", s)
	}
	rec := &recorder{}
	start(t, q, queue.Consumer{Queue: "later", Policy: queue.Policy{MaxBatchSize: 1}, Handler: rec.handle})
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := len(rec.snapshot()); n != 2 {
			return fmt.Errorf("%d of 2 delivered", n)
		}
		return nil
	})
	for _, d := range rec.snapshot() {
		switch d.body {
		case "now":
			if d.at.Sub(sentAt) > 900*time.Millisecond {
				t.Errorf("undelayed message arrived after %v", d.at.Sub(sentAt))
			}
		case "default delay":
			if d.at.Sub(sentAt) < time.Second {
				t.Errorf("message delayed by the binding's 1s arrived after %v", d.at.Sub(sentAt))
			}
			if d.attempts != 1 {
				t.Errorf("delayed message has attempts %d, want 1", d.attempts)
			}
		}
	}
}

// A handler that fails N times: the message is retried with growing
// delays and handled on attempt N+1.
func TestRetryWithBackoffThenSuccess(t *testing.T) {
	for _, failures := range []int{1, 3} {
		t.Run(fmt.Sprintf("fails %d times", failures), func(t *testing.T) {
			q := newQueues(t)
			rec := &recorder{}
			var mu sync.Mutex
			left := failures
			rec.decide = func(b *queue.Batch) ([]queue.Decision, error) {
				mu.Lock()
				defer mu.Unlock()
				if left > 0 {
					left--
					return nil, errors.New("payment provider unavailable")
				}
				return nil, nil
			}
			start(t, q, queue.Consumer{Queue: "jobs", Policy: queue.Policy{MaxBatchSize: 1, MaxRetries: 3, DeadLetter: "jobs-dlq"}, Handler: rec.handle})
			send(t, q, "jobs", "work")
			poll.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
				if n := len(rec.snapshot()); n != failures+1 {
					return fmt.Errorf("%d deliveries, want %d", n, failures+1)
				}
				return emptyQueue(q, "jobs")()
			})
			ds := rec.snapshot()
			for i, d := range ds {
				if d.attempts != i+1 {
					t.Errorf("delivery %d has attempts %d, want %d", i, d.attempts, i+1)
				}
				if i > 0 {
					gap, min := d.at.Sub(ds[i-1].at), testConfig.BackoffBase<<(i-1)
					if gap < min {
						t.Errorf("retry %d came %v after the failure, want at least %v (backoff)", i, gap, min)
					}
				}
			}
			if s := stats(t, q, "jobs-dlq"); s.Messages != 0 {
				t.Errorf("a message that succeeded was dead-lettered: %+v", s)
			}
		})
	}
}

func TestDeadLetterAfterMaxRetriesAndRedrive(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{}
	fail := true
	var mu sync.Mutex
	rec.decide = func(b *queue.Batch) ([]queue.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, fmt.Errorf("Uncaught Error: card declined for %s\n    at queue (index.js:3)", b.Messages[0].Body)
		}
		return nil, nil
	}
	start(t, q, queue.Consumer{Queue: "orders", Policy: queue.Policy{MaxBatchSize: 1, MaxRetries: 2, DeadLetter: "orders-dlq"}, Handler: rec.handle})
	ids := send(t, q, "orders", "a", "b")
	poll.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if s := stats(t, q, "orders-dlq"); s.Messages != 2 {
			return fmt.Errorf("dead-letter queue holds %d, want 2", s.Messages)
		}
		return emptyQueue(q, "orders")()
	})
	for body, ds := range rec.byBody() {
		if len(ds) != 3 {
			t.Errorf("%s was delivered %d times, want 3 (max_retries 2)", body, len(ds))
		}
	}
	dead, err := q.Peek(context.Background(), "orders-dlq", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 {
		t.Fatalf("peeked %d dead letters, want 2", len(dead))
	}
	for i, p := range dead {
		wantErr := "Uncaught Error: card declined for " + []string{"a", "b"}[i] + "     at queue (index.js:3)"
		if p.ID != ids[i] || p.Body != []string{"a", "b"}[i] || p.DeadLetter == nil ||
			p.DeadLetter.Queue != "orders" || p.DeadLetter.Attempts != 3 || p.DeadLetter.Error != wantErr || p.Attempts != 0 {
			t.Errorf("dead letter %d: %+v (dead letter %+v), want id %s, from orders after 3 attempts with error %q", i, p, p.DeadLetter, ids[i], wantErr)
		}
	}
	// Fix the consumer and redrive: both come back with fresh attempts.
	mu.Lock()
	fail = false
	mu.Unlock()
	moved, err := q.Redrive(context.Background(), "orders-dlq", "orders", 0)
	if err != nil || moved != 2 {
		t.Fatalf("redrive: moved %d, %v; want 2", moved, err)
	}
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := len(rec.snapshot()); n != 8 {
			return fmt.Errorf("%d deliveries, want 8", n)
		}
		return emptyQueue(q, "orders")()
	})
	for body, ds := range rec.byBody() {
		last := ds[len(ds)-1]
		if last.attempts != 1 || last.id != ids[map[string]int{"a": 0, "b": 1}[body]] {
			t.Errorf("redriven %s: attempts %d id %s, want a fresh attempt with the same id", body, last.attempts, last.id)
		}
	}
	if s := stats(t, q, "orders-dlq"); s.Messages != 0 {
		t.Errorf("dead-letter queue not empty after redrive: %+v", s)
	}
}

func TestRedriveRefusesBadInput(t *testing.T) {
	q := newQueues(t)
	for _, tt := range []struct{ from, to, wantErr string }{
		{"a", "a", "cannot redrive a into itself"},
		{"A", "b", `"A" is not a valid queue name`},
		{"a", "", `"" is not a valid queue name`},
	} {
		if _, err := q.Redrive(context.Background(), tt.from, tt.to, 0); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Redrive(%q, %q) = %v, want %q", tt.from, tt.to, err, tt.wantErr)
		}
	}
	if n, err := q.Redrive(context.Background(), "empty-dlq", "orders", 0); err != nil || n != 0 {
		t.Errorf("redrive of an empty queue: %d, %v", n, err)
	}
}

func TestDropWithoutDeadLetterQueue(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{decide: func(b *queue.Batch) ([]queue.Decision, error) { return nil, errors.New("boom") }}
	var mu sync.Mutex
	var dropped []string
	start(t, q, queue.Consumer{Queue: "fragile", Policy: queue.Policy{MaxBatchSize: 1, MaxRetries: 1}, Handler: rec.handle,
		OnDrop: func(m *queue.Message, lastErr string) {
			mu.Lock()
			dropped = append(dropped, string(m.Body)+": "+lastErr)
			mu.Unlock()
		}})
	send(t, q, "fragile", "x")
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(dropped) != 1 {
			return fmt.Errorf("dropped %v", dropped)
		}
		return emptyQueue(q, "fragile")()
	})
	if dropped[0] != "x: boom" || len(rec.snapshot()) != 2 {
		t.Errorf("dropped %q after %d deliveries, want \"x: boom\" after 2", dropped, len(rec.snapshot()))
	}
}

// Per-message decisions: ack one, retry one with a delay, leave one
// undecided while the handler fails.
func TestPerMessageDecisions(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{}
	var mu sync.Mutex
	first := true
	rec.decide = func(b *queue.Batch) ([]queue.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		if !first {
			return nil, nil
		}
		first = false
		if len(b.Messages) != 3 {
			return nil, fmt.Errorf("first batch has %d messages, want 3", len(b.Messages))
		}
		return []queue.Decision{{Verdict: queue.Ack}, {Verdict: queue.Retry, Delay: time.Second, DelaySet: true}, {}}, errors.New("failed after deciding")
	}
	start(t, q, queue.Consumer{Queue: "mixed", Policy: queue.Policy{MaxBatchSize: 3, MaxBatchTimeout: 2 * time.Second, MaxRetries: 3}, Handler: rec.handle})
	send(t, q, "mixed", "acked", "delayed", "undecided")
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := len(rec.snapshot()); n != 5 {
			return fmt.Errorf("%d deliveries, want 5", n)
		}
		return emptyQueue(q, "mixed")()
	})
	by := rec.byBody()
	if len(by["acked"]) != 1 || len(by["delayed"]) != 2 || len(by["undecided"]) != 2 {
		t.Fatalf("deliveries per message: acked %d, delayed %d, undecided %d; want 1, 2, 2", len(by["acked"]), len(by["delayed"]), len(by["undecided"]))
	}
	if gap := by["delayed"][1].at.Sub(by["delayed"][0].at); gap < time.Second {
		t.Errorf("message retried with delaySeconds 1 came back after %v", gap)
	}
	if d := by["delayed"][1]; d.attempts != 2 {
		t.Errorf("retried message attempts %d, want 2", d.attempts)
	}
}

func TestBatchSizeAndTimeout(t *testing.T) {
	q := newQueues(t)
	send(t, q, "bulk", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
	rec := &recorder{}
	began := time.Now()
	start(t, q, queue.Consumer{Queue: "bulk", Policy: queue.Policy{MaxBatchSize: 5, MaxBatchTimeout: 700 * time.Millisecond}, Handler: rec.handle})
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, emptyQueue(q, "bulk"))
	sizes := map[int]int{}
	var lastAt time.Time
	for _, d := range rec.snapshot() {
		sizes[d.batch] = d.batchSize
		lastAt = d.at
	}
	if fmt.Sprint(sizes) != "map[0:5 1:5 2:2]" {
		t.Errorf("batch sizes %v, want 5, 5 and 2", sizes)
	}
	if wait := lastAt.Sub(began); wait < 700*time.Millisecond || wait > 1400*time.Millisecond {
		t.Errorf("the short batch came after %v; want max_batch_timeout (700ms), give or take", wait)
	}
}

func TestConcurrencyIsBoundedAcrossNodes(t *testing.T) {
	_, url := storetest.OpenExternal(t)
	rec := &recorder{hold: 50 * time.Millisecond}
	var qs []*queue.Queues
	for range 2 {
		st, err := store.Open(context.Background(), store.Config{NATSURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		q := openQueues(t, st)
		qs = append(qs, q)
		start(t, q, queue.Consumer{Queue: "limited", Policy: queue.Policy{MaxBatchSize: 1, MaxConcurrency: 2}, Handler: rec.handle})
	}
	var bodies []string
	for i := range 30 {
		bodies = append(bodies, fmt.Sprint(i))
	}
	send(t, qs[0], "limited", bodies...)
	poll.CheckFor(t, 20*time.Second, 10*time.Millisecond, emptyQueue(qs[0], "limited"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.maxRunning > 2 || rec.maxRunning < 2 {
		t.Errorf("%d batches ran at once on two nodes; max_concurrency 2 wants exactly 2 at the peak", rec.maxRunning)
	}
}

// Two nodes consume one queue: each message is handled once.
func TestSharedConsumerHandlesEachMessageOnce(t *testing.T) {
	_, url := storetest.OpenExternal(t)
	var recs []*recorder
	var qs []*queue.Queues
	for range 2 {
		st, err := store.Open(context.Background(), store.Config{NATSURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		q := openQueues(t, st)
		rec := &recorder{}
		recs, qs = append(recs, rec), append(qs, q)
		start(t, q, queue.Consumer{Queue: "shared", Policy: queue.Policy{MaxBatchSize: 10, MaxBatchTimeout: 50 * time.Millisecond, MaxConcurrency: 4}, Handler: rec.handle})
	}
	var bodies []string
	for i := range 1000 {
		bodies = append(bodies, fmt.Sprint(i))
	}
	send(t, qs[1], "shared", bodies[500:]...) // each node produces half
	send(t, qs[0], "shared", bodies[:500]...)
	seen := map[string]int{}
	poll.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		clear(seen)
		for _, r := range recs {
			for _, d := range r.snapshot() {
				seen[d.body]++
			}
		}
		if len(seen) != 1000 {
			return fmt.Errorf("%d of 1000 handled", len(seen))
		}
		return emptyQueue(qs[0], "shared")()
	})
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if dups != 0 {
		t.Errorf("%d duplicate deliveries without any failure", dups)
	}
	t.Logf("node 1 handled %d, node 2 handled %d", len(recs[0].snapshot()), len(recs[1].snapshot()))
	if len(recs[0].snapshot()) == 0 || len(recs[1].snapshot()) == 0 {
		t.Errorf("one node handled nothing")
	}
}

// A node that stops (crashes) mid-batch: its messages go to the other
// node after the ack wait.
func TestStoppedRunnerMessagesRedelivered(t *testing.T) {
	q := newQueues(t)
	stuck := &recorder{hold: time.Hour}
	r1, err := q.Start(context.Background(), queue.Consumer{Name: queue.ConsumerName("handoff"), Subject: queue.QueueSubject("handoff"), Queue: "handoff", Policy: queue.Policy{MaxBatchSize: 5, MaxBatchTimeout: 100 * time.Millisecond}, Handler: stuck.handle})
	if err != nil {
		t.Fatal(err)
	}
	send(t, q, "handoff", "1", "2", "3")
	poll.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := len(stuck.snapshot()); n != 3 {
			return fmt.Errorf("%d in the stuck batch", n)
		}
		return nil
	})
	// Stop with no grace: the batch is abandoned, as a crash would.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r1.Stop(ctx)
	rec := &recorder{}
	start(t, q, queue.Consumer{Queue: "handoff", Policy: queue.Policy{MaxBatchSize: 5, MaxBatchTimeout: 100 * time.Millisecond}, Handler: rec.handle})
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, emptyQueue(q, "handoff"))
	for _, d := range rec.snapshot() {
		if d.attempts != 2 {
			t.Errorf("redelivered %s with attempts %d, want 2", d.body, d.attempts)
		}
	}
}

func TestPeekAndStats(t *testing.T) {
	q := newQueues(t)
	if _, err := q.Send(context.Background(), "inbox", []binding.Message{
		{Body: []byte(`{"a":1}`), DelaySeconds: -1},
		{Body: []byte{0xff, 0xfe}, ContentType: "bytes", DelaySeconds: -1},
		{Body: []byte("later"), ContentType: "text", DelaySeconds: 3600},
	}, 0); err != nil {
		t.Fatal(err)
	}
	ps, err := q.Peek(context.Background(), "inbox", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Body != `{"a":1}` || ps[0].ContentType != "json" || string(ps[1].BodyBase64) != "\xff\xfe" || ps[1].Body != "" {
		t.Fatalf("peek: %+v", ps)
	}
	if ps, _ := q.Peek(context.Background(), "inbox", 1); len(ps) != 1 {
		t.Errorf("peek with limit 1 returned %d", len(ps))
	}
	if s := stats(t, q, "inbox"); s.Messages != 2 || s.Delayed != 1 || s.Consumer {
		t.Errorf("stats %+v, want 2 ready, 1 delayed, no consumer", s)
	}
	if ps, err := q.Peek(context.Background(), "nothing-here", 10); err != nil || len(ps) != 0 {
		t.Errorf("peek of an empty queue: %v, %v", ps, err)
	}
}

func TestStopWaitsForRunningBatch(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{hold: 300 * time.Millisecond}
	r, err := q.Start(context.Background(), queue.Consumer{Name: "q-slow", Queue: "slow", Subject: queue.QueueSubject("slow"), Policy: queue.Policy{MaxBatchSize: 1}, Handler: rec.handle})
	if err != nil {
		t.Fatal(err)
	}
	send(t, q, "slow", "x")
	poll.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if len(rec.snapshot()) == 0 {
			return errors.New("not started")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.Stop(ctx)
	poll.CheckFor(t, 5*time.Second, 10*time.Millisecond, emptyQueue(q, "slow"))
}

// A message that is dead-lettered, redriven and fails again goes through
// its retries and back to the dead-letter queue: nothing about the first
// round (its retry and dead-letter ids) swallows the second.
func TestRedrivenMessageFailingAgainIsDeadLetteredAgain(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{decide: func(b *queue.Batch) ([]queue.Decision, error) { return nil, errors.New("still broken") }}
	start(t, q, queue.Consumer{Queue: "orders", Policy: queue.Policy{MaxBatchSize: 1, MaxRetries: 1, DeadLetter: "orders-dlq"}, Handler: rec.handle})
	send(t, q, "orders", "x")
	for round := 1; round <= 3; round++ {
		poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if s := stats(t, q, "orders-dlq"); s.Messages != 1 {
				return fmt.Errorf("round %d: dead-letter queue holds %d", round, s.Messages)
			}
			return emptyQueue(q, "orders")()
		})
		if n := len(rec.snapshot()); n != 2*round {
			t.Fatalf("round %d: %d deliveries, want %d", round, n, 2*round)
		}
		if moved, err := q.Redrive(context.Background(), "orders-dlq", "orders", 0); err != nil || moved != 1 {
			t.Fatalf("round %d: redrive moved %d, %v", round, moved, err)
		}
	}
}
