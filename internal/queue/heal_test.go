package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
)

// A consumer deleted under a running runner (another node applied the
// removal of the service first) is created again by the runner.
func TestRunnerRecreatesDeletedConsumer(t *testing.T) {
	q := newQueues(t)
	rec := &recorder{}
	start(t, q, queue.Consumer{Queue: "phoenix", Policy: queue.Policy{MaxBatchSize: 1}, Handler: rec.handle})
	send(t, q, "phoenix", "before")
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, emptyQueue(q, "phoenix"))
	if err := q.DeleteConsumer(context.Background(), queue.ConsumerName("phoenix")); err != nil {
		t.Fatal(err)
	}
	send(t, q, "phoenix", "after")
	poll.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if n := len(rec.snapshot()); n != 2 {
			return fmt.Errorf("%d handled", n)
		}
		return nil
	})
}
