package queue_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// Many senders, two nodes consuming, a handler that fails whole batches
// and retries single messages at random: every message succeeds exactly
// once (no failure here loses an acknowledgement), none is lost.
func TestHammerSendConsumeRetry(t *testing.T) {
	_, url := storetest.OpenExternal(t)
	var mu sync.Mutex
	succeeded := map[string]int{}
	handler := func(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		if r.IntN(10) == 0 {
			return nil, errors.New("the whole batch fails")
		}
		ds := make([]queue.Decision, len(b.Messages))
		mu.Lock()
		defer mu.Unlock()
		for i, m := range b.Messages {
			if r.IntN(8) == 0 {
				ds[i] = queue.Decision{Verdict: queue.Retry, DelaySet: r.IntN(2) == 0, Delay: 0}
				continue
			}
			succeeded[string(m.Body)]++
		}
		return ds, nil
	}
	var qs []*queue.Queues
	for range 2 {
		st, err := store.Open(context.Background(), store.Config{NATSURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		q := openQueues(t, st)
		qs = append(qs, q)
		start(t, q, queue.Consumer{Queue: "hammer", Policy: queue.Policy{MaxBatchSize: 7, MaxBatchTimeout: 20 * time.Millisecond, MaxRetries: 100, MaxConcurrency: 3}, Handler: handler})
	}
	const senders, each = 4, 150
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Go(func() {
			q := qs[s%2]
			for i := 0; i < each; i += 3 {
				var msgs []binding.Message
				for k := i; k < min(i+3, each); k++ {
					msgs = append(msgs, binding.Message{Body: []byte(fmt.Sprintf("%d-%d", s, k)), ContentType: "text"})
				}
				if _, err := q.Send(context.Background(), "hammer", msgs, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	poll.CheckFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(succeeded) != senders*each {
			return fmt.Errorf("%d of %d succeeded", len(succeeded), senders*each)
		}
		return emptyQueue(qs[0], "hammer")()
	})
	mu.Lock()
	defer mu.Unlock()
	for body, n := range succeeded {
		if n != 1 {
			t.Errorf("%s succeeded %d times", body, n)
		}
	}
}
