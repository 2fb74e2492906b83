package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// raw is JetStream alone: publish to a work-queue stream, pull, ack.
type raw struct {
	dir   string
	st    *store.Store
	cons  jetstream.Consumer
	seen  atomic.Int64
	first chan time.Time // handler entry times, for latency
	stop  context.CancelFunc
	done  chan struct{}
}

func openStore() (string, *store.Store, error) {
	dir, err := os.MkdirTemp("", "wisp-bench-queues-")
	if err != nil {
		return "", nil, err
	}
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, st, nil
}

func newRaw(batch int) (target, error) {
	dir, st, err := openStore()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	s, err := st.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.q"}, Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		return nil, err
	}
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "raw", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4 * batch})
	if err != nil {
		return nil, err
	}
	r := &raw{dir: dir, st: st, cons: cons, first: make(chan time.Time, 1), done: make(chan struct{})}
	rctx, cancel := context.WithCancel(ctx)
	r.stop = cancel
	go r.consume(rctx, batch)
	return r, nil
}

func (r *raw) name() string { return "raw" }

// consume is the handler side: pull a batch, note it, ack each message.
func (r *raw) consume(ctx context.Context, batch int) {
	defer close(r.done)
	for ctx.Err() == nil {
		b, err := r.cons.Fetch(batch, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			continue
		}
		// The batch is the handler's once it has all arrived, as wisp's
		// handler gets it.
		var msgs []jetstream.Msg
		for m := range b.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			continue
		}
		select {
		case r.first <- time.Now():
		default:
		}
		for _, m := range msgs {
			_ = m.Ack()
		}
		r.seen.Add(int64(len(msgs)))
	}
}

func (r *raw) send(ctx context.Context, batch int) error {
	if batch == 1 {
		_, err := r.st.JS.PublishMsg(ctx, &nats.Msg{Subject: "raw.q", Data: stamp()})
		return err
	}
	fs := make([]jetstream.PubAckFuture, batch)
	for i := range fs {
		f, err := r.st.JS.PublishMsgAsync(&nats.Msg{Subject: "raw.q", Data: stamp()})
		if err != nil {
			return err
		}
		fs[i] = f
	}
	for _, f := range fs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		}
	}
	return nil
}

func stamp() []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
}

func (r *raw) throughput(ctx context.Context, n, batch int) (time.Duration, error) {
	start, target := time.Now(), r.seen.Load()+int64(n)
	for sent := 0; sent < n; sent += batch {
		if err := r.send(ctx, batch); err != nil {
			return 0, err
		}
	}
	return waitCount(&r.seen, target, start)
}

func waitCount(c *atomic.Int64, target int64, start time.Time) (time.Duration, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for c.Load() < target {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("handled %d of %d messages after 5 minutes", c.Load(), target)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Since(start), nil
}

func (r *raw) latency(ctx context.Context, batch int) (time.Duration, error) {
	return timeFirst(ctx, r.first, func() error { return r.send(ctx, batch) })
}

// timeFirst times from just before send until the handler's first entry
// after it.
func timeFirst(ctx context.Context, first chan time.Time, send func() error) (time.Duration, error) {
	select { // drop a stale entry
	case <-first:
	default:
	}
	start := time.Now()
	if err := send(); err != nil {
		return 0, err
	}
	select {
	case at := <-first:
		return at.Sub(start), nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("the handler did not get the message within 30s")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (r *raw) close() {
	r.stop()
	<-r.done
	r.st.Close()
	os.RemoveAll(r.dir)
}
