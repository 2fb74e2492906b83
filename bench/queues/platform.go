package main

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store"
)

// platform is wisp's queue package with a Go handler: what wisp adds to
// JetStream (message format, batching, heartbeats, settling), no runtime.
type platform struct {
	dir    string
	st     *store.Store
	q      *queue.Queues
	runner *queue.Runner
	seen   atomic.Int64
	first  chan time.Time
}

func newPlatform(batch int) (target, error) {
	dir, st, err := openStore()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	q, err := queue.Open(ctx, st.JS, queue.Config{})
	if err != nil {
		return nil, err
	}
	p := &platform{dir: dir, st: st, q: q, first: make(chan time.Time, 1)}
	p.runner, err = q.Start(ctx, queue.Consumer{
		Name: queue.ConsumerName("bench"), Queue: "bench", Subject: queue.QueueSubject("bench"),
		Policy: queue.Policy{MaxBatchSize: batch, MaxBatchTimeout: time.Second, MaxConcurrency: 1},
		Handler: func(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
			select {
			case p.first <- time.Now():
			default:
			}
			p.seen.Add(int64(len(b.Messages)))
			return nil, nil
		},
	})
	return p, err
}

func (p *platform) name() string { return "platform" }

func (p *platform) send(ctx context.Context, batch int) error {
	msgs := make([]binding.Message, batch)
	for i := range msgs {
		msgs[i] = binding.Message{Body: stamp(), ContentType: "bytes"}
	}
	_, err := p.q.Send(ctx, "bench", msgs, 0)
	return err
}

func (p *platform) throughput(ctx context.Context, n, batch int) (time.Duration, error) {
	start, target := time.Now(), p.seen.Load()+int64(n)
	for sent := 0; sent < n; sent += batch {
		if err := p.send(ctx, batch); err != nil {
			return 0, err
		}
	}
	return waitCount(&p.seen, target, start)
}

func (p *platform) latency(ctx context.Context, batch int) (time.Duration, error) {
	return timeFirst(ctx, p.first, func() error { return p.send(ctx, batch) })
}

func (p *platform) close() {
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.runner.Stop(stop)
	p.st.Close()
	os.RemoveAll(p.dir)
}
