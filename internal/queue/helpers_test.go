package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// testConfig makes retries quick: 1s ack wait, 50ms backoff base.
var testConfig = queue.Config{AckWait: time.Second, BackoffBase: 50 * time.Millisecond, BackoffMax: 2 * time.Second}

func openQueues(t testing.TB, st *store.Store) *queue.Queues {
	t.Helper()
	q, err := queue.Open(context.Background(), st.JS, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func newQueues(t testing.TB) *queue.Queues {
	t.Helper()
	return openQueues(t, storetest.Open(t))
}

func send(t testing.TB, q *queue.Queues, name string, bodies ...string) []string {
	t.Helper()
	var msgs []binding.Message
	for _, b := range bodies {
		msgs = append(msgs, binding.Message{Body: []byte(b), ContentType: "text", DelaySeconds: -1})
	}
	var ids []string
	for len(msgs) > 0 {
		n := min(len(msgs), queue.MaxBatchMessages)
		sent, err := q.Send(context.Background(), name, msgs[:n], 0)
		if err != nil {
			t.Fatalf("send to %s: %v", name, err)
		}
		for _, s := range sent {
			ids = append(ids, s.ID)
		}
		msgs = msgs[n:]
	}
	return ids
}

// delivery is one message as a handler saw it.
type delivery struct {
	id, body, contentType string
	attempts              int
	at                    time.Time
	timestamp             time.Time
	batch                 int // index of the batch it came in
	batchSize             int
}

// recorder is a handler that records what it is given and answers with
// decide (nil: succeed and decide nothing).
type recorder struct {
	mu         sync.Mutex
	deliveries []delivery
	batches    int
	running    int
	maxRunning int
	decide     func(b *queue.Batch) ([]queue.Decision, error)
	hold       time.Duration // how long each batch takes
}

func (r *recorder) handle(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
	r.mu.Lock()
	r.running++
	r.maxRunning = max(r.maxRunning, r.running)
	idx := r.batches
	r.batches++
	now := time.Now()
	for _, m := range b.Messages {
		r.deliveries = append(r.deliveries, delivery{id: m.ID, body: string(m.Body), contentType: m.ContentType, attempts: m.Attempts, at: now, timestamp: m.Timestamp, batch: idx, batchSize: len(b.Messages)})
	}
	decide := r.decide
	r.mu.Unlock()
	if r.hold > 0 {
		select {
		case <-time.After(r.hold):
		case <-ctx.Done():
		}
	}
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	if decide == nil {
		return nil, nil
	}
	return decide(b)
}

func (r *recorder) snapshot() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.deliveries...)
}

// byBody groups deliveries by message body.
func (r *recorder) byBody() map[string][]delivery {
	out := map[string][]delivery{}
	for _, d := range r.snapshot() {
		out[d.body] = append(out[d.body], d)
	}
	return out
}

func start(t testing.TB, q *queue.Queues, c queue.Consumer) *queue.Runner {
	t.Helper()
	if c.Name == "" {
		c.Name = queue.ConsumerName(c.Queue)
	}
	if c.Subject == "" {
		c.Subject = queue.QueueSubject(c.Queue)
	}
	r, err := q.Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return r
}

func stats(t testing.TB, q *queue.Queues, name string) queue.Stats {
	t.Helper()
	all, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := all[name]; s != nil {
		return *s
	}
	return queue.Stats{}
}

func emptyQueue(q *queue.Queues, name string) func() error {
	return func() error {
		all, err := q.Stats(context.Background())
		if err != nil {
			return err
		}
		if s := all[name]; s != nil && (s.Messages > 0 || s.Delayed > 0) {
			return fmt.Errorf("queue %s still holds %d messages (%d delayed)", name, s.Messages, s.Delayed)
		}
		return nil
	}
}
