package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// Log storage on JetStream: one stream, one subject per service, entries
// batched (many entries, one message) so that logging costs the hot path
// a channel send, not a round trip.
const (
	StreamName    = "WISP_LOGS"
	subjectPrefix = "wisp.logs."

	// Defaults for StoreConfig.
	DefaultMaxAge   = 7 * 24 * time.Hour
	DefaultMaxBytes = 256 << 20

	flushEvery = 100 * time.Millisecond
	maxBatch   = 512
	queueSize  = 16384
)

// StoreConfig bounds what is kept.
type StoreConfig struct {
	MaxAge   time.Duration // entries older than this are dropped
	MaxBytes int64         // the oldest entries go first past this size
	Replicas int
	Logger   *slog.Logger
}

// Store keeps service log entries on JetStream with bounded retention.
type Store struct {
	js      jetstream.JetStream
	log     *slog.Logger
	in      chan Entry
	dropped atomic.Uint64
	done    chan struct{}
	stop    context.CancelFunc
	once    sync.Once
}

// OpenStore creates (or updates) the log stream and starts the writer.
func OpenStore(ctx context.Context, js jetstream.JetStream, cfg StoreConfig) (*Store, error) {
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "wisp service logs",
		Subjects:    []string{subjectPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("open log stream: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Store{js: js, log: cfg.Logger, in: make(chan Entry, queueSize), done: make(chan struct{}), stop: cancel}
	go s.run(runCtx)
	return s, nil
}

// Write queues e for storage. It never blocks: when the writer falls
// behind, entries are dropped and counted (see Dropped).
func (s *Store) Write(e Entry) {
	select {
	case s.in <- e:
	default:
		s.dropped.Add(1)
	}
}

// Dropped is how many entries were lost because storage fell behind.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Close flushes what is queued and stops the writer.
func (s *Store) Close() {
	s.once.Do(func() {
		s.stop()
		<-s.done
	})
}

func (s *Store) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	var batch []Entry
	for {
		select {
		case e := <-s.in:
			batch = append(batch, e)
			// Take what else is waiting without a three-way select per
			// entry (every request sends one).
		drain:
			for len(batch) < maxBatch {
				select {
				case e := <-s.in:
					batch = append(batch, e)
				default:
					break drain
				}
			}
			if len(batch) < maxBatch {
				continue
			}
		case <-t.C:
		case <-ctx.Done():
			for {
				select {
				case e := <-s.in:
					batch = append(batch, e)
					continue
				default:
				}
				break
			}
			s.flush(batch)
			return
		}
		s.flush(batch)
		batch = batch[:0]
	}
}

// flush publishes one message per service holding its entries. The
// messages go out without waiting for each acknowledgement in turn (a
// node with many active services would otherwise make a round trip
// through the server per service, every flush); each has a buffer of
// its own, which the client keeps until acknowledged (it may publish it
// again while the stream is briefly unavailable).
func (s *Store) flush(batch []Entry) {
	if len(batch) == 0 {
		return
	}
	by := map[string][]Entry{}
	for _, e := range batch {
		by[e.Service] = append(by[e.Service], e)
	}
	var (
		svcs []string
		acks []jetstream.PubAckFuture
	)
	failed := func(svc string, err error) {
		n := len(by[svc])
		s.dropped.Add(uint64(n))
		s.log.Warn("store log entries", "service", svc, "entries", n, "error", err)
	}
	for svc, es := range by {
		ack, err := s.js.PublishAsync(subjectPrefix+svc, appendEntries(nil, es))
		if err != nil {
			failed(svc, err)
			continue
		}
		svcs, acks = append(svcs, svc), append(acks, ack)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, err := range store.AwaitAcks(ctx, acks) {
		if err != nil {
			failed(svcs[i], err)
		}
	}
}

// Query selects entries to read.
type Query struct {
	Service  string
	Since    time.Time // entries at or after this time
	MinLevel Level     // "" for all
	Follow   bool      // keep delivering new entries until ctx ends
}

// levelRank orders levels; unknown levels rank with info.
func levelRank(l Level) int {
	switch l {
	case Debug:
		return 0
	case Warn:
		return 2
	case Error:
		return 3
	}
	return 1
}

// ValidLevel reports whether l is a level a query can filter on.
func ValidLevel(l Level) bool {
	switch l {
	case Debug, Info, Warn, Error:
		return true
	}
	return false
}

// Read calls fn for every stored entry matching q, oldest first. Without
// Follow it returns once it has caught up; with Follow it waits for new
// entries until ctx ends (then it returns nil).
func (s *Store) Read(ctx context.Context, q Query, fn func(Entry) error) error {
	since := q.Since
	// Entries are batched up to flushEvery before they are stored: start
	// the stream a little earlier and filter by the entries' own times.
	start := since.Add(-2 * flushEvery)
	cons, err := s.js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjectPrefix + q.Service},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
	})
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", q.Service, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", q.Service, err)
	}
	if info.NumPending == 0 && !q.Follow {
		return nil
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", q.Service, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	min := levelRank(q.MinLevel)
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("read logs of %s: %w", q.Service, err)
		}
		var es []Entry
		if err := json.Unmarshal(msg.Data(), &es); err != nil {
			continue // not written by us; skip rather than fail the reader
		}
		for _, e := range es {
			if e.Time.Before(since) || (q.MinLevel != "" && levelRank(e.Level) < min) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if !q.Follow {
			if md, err := msg.Metadata(); err == nil && md.NumPending == 0 {
				return nil
			}
		}
	}
}

// Tee is a Sink writing every entry to each of its sinks.
type Tee []Sink

// Write implements Sink.
func (t Tee) Write(e Entry) {
	for _, s := range t {
		s.Write(e)
	}
}
