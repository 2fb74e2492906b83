package queue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// JobsLabel is the name the jobs consumer (asynchronous invocations, cron
// ticks, callbacks) is counted under: no queue can have it, as a queue
// name has no parentheses.
const JobsLabel = "(jobs)"

// Counts are what this node's consumers did with one queue's messages
// since the node started: the acknowledged, the retried, the moved to a
// dead-letter queue and the dropped (last retry failed, no dead-letter
// queue).
type Counts struct {
	Acked, Retried, DeadLettered, Dropped uint64
}

type counters struct {
	acked, retried, deadLettered, dropped atomic.Uint64
}

// countsFor is the counters of queue, made on first use.
func (q *Queues) countsFor(queue string) *counters {
	if queue == "" {
		queue = JobsLabel
	}
	if c, ok := q.counts.Load(queue); ok {
		return c.(*counters)
	}
	c, _ := q.counts.LoadOrStore(queue, &counters{})
	return c.(*counters)
}

// Counts is what this node's consumers did, by queue name (JobsLabel for
// the jobs consumer).
func (q *Queues) Counts() map[string]Counts {
	out := map[string]Counts{}
	q.counts.Range(func(k, v any) bool {
		c := v.(*counters)
		out[k.(string)] = Counts{Acked: c.acked.Load(), Retried: c.retried.Load(), DeadLettered: c.deadLettered.Load(), Dropped: c.dropped.Load()}
		return true
	})
	return out
}

// OldestAge is how long the oldest message ready on queue has waited
// since it was first sent (0 when the queue has none ready).
func (q *Queues) OldestAge(ctx context.Context, queue string, now time.Time) (time.Duration, error) {
	m, err := q.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(QueueSubject(queue)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the oldest message of queue %s: %w", queue, err)
	}
	sent := sentTime(m.Header, &jetstream.MsgMetadata{Timestamp: m.Time})
	return max(now.Sub(sent), 0), nil
}
