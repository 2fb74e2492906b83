package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// Bucket is the KV bucket holding usage: key DAY.SERVICE.NODE (DAY as
// YYYYMMDD, UTC), value the JSON Totals of that service on that node that
// day.
const Bucket = "wisp-usage"

// Defaults for Config.
const (
	DefaultEvery  = time.Second
	DefaultMaxAge = 400 * 24 * time.Hour
	// MaxDays bounds the days one query reads.
	MaxDays = 400
)

// Config says where usage is stored and how often.
type Config struct {
	Node     string        // this node's id; its keys are its own
	Every    time.Duration // how often growth is stored; default 1s
	MaxAge   time.Duration // a day's record is dropped this long after its last change; default 400 days
	Replicas int
	Logger   *slog.Logger
	Now      func() time.Time // default time.Now
}

// Meter stores the growth of its counters on JetStream and answers
// queries over what is stored plus what is not yet.
type Meter struct {
	kv  jetstream.KeyValue
	js  jetstream.JetStream
	cfg Config

	// flushMu serializes flushes with each other and with queries, so a
	// query never sees growth both stored and pending.
	flushMu  sync.Mutex
	mu       sync.Mutex
	counters []*Counter
	pending  map[string]Totals // service → growth taken from counters, not yet stored
	stored   map[string]Totals // key → what this node stored there

	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// Open creates (or opens) the usage bucket, loads what this node stored
// today, and starts storing every cfg.Every.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Meter, error) {
	if cfg.Node == "" || strings.ContainsAny(cfg.Node, ".*> ") {
		return nil, fmt.Errorf("open usage meter: node id %q is not a valid key token", cfg.Node)
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "wisp usage per service, day and node",
		History: 1, TTL: cfg.MaxAge, Storage: jetstream.FileStorage, Replicas: max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("open usage bucket: %w", err)
	}
	m := &Meter{kv: kv, js: js, cfg: cfg, pending: map[string]Totals{}, stored: map[string]Totals{}, done: make(chan struct{})}
	if err := m.loadOwn(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go m.run(runCtx)
	return m, nil
}

// loadOwn reads what this node stored today, so that storing goes on
// from there after a restart.
func (m *Meter) loadOwn(ctx context.Context) error {
	day := dayKey(m.cfg.Now())
	return m.scan(ctx, []string{day + ".*." + m.cfg.Node}, func(key string, t Totals) {
		m.stored[key] = t
	})
}

// Counter makes the counter of one loaded version of service, whose
// instances reserve memoryMB each.
func (m *Meter) Counter(service string, memoryMB int) *Counter {
	c := &Counter{service: service, memoryMB: uint64(max(memoryMB, 0))}
	m.mu.Lock()
	m.counters = append(m.counters, c)
	m.mu.Unlock()
	return c
}

func (m *Meter) run(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(m.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := m.Flush(fctx); err != nil && ctx.Err() == nil {
				m.cfg.Logger.Warn("store usage (kept in memory, retried)", "error", err)
			}
			cancel()
		}
	}
}

// Close stops the periodic store and stores what is left.
func (m *Meter) Close() error {
	var err error
	m.once.Do(func() {
		m.stop()
		<-m.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = m.Flush(ctx)
	})
	return err
}

// collectLocked moves the counters' growth to pending and forgets closed
// counters.
func (m *Meter) collectLocked() {
	kept := m.counters[:0]
	for _, c := range m.counters {
		closed := c.closed.Load() // before Load: nothing is added after Close
		cur := c.Load()
		if d := cur.sub(c.flushed); !d.IsZero() {
			p := m.pending[c.service]
			p.Add(d)
			m.pending[c.service] = p
		}
		c.flushed = cur
		if !closed {
			kept = append(kept, c)
		}
	}
	clear(m.counters[len(kept):])
	m.counters = kept
}

// Flush stores the growth since the last flush, under today's keys (a
// flush right after midnight UTC counts up to a period of yesterday's
// use under today). Growth that could not be stored stays pending.
func (m *Meter) Flush(ctx context.Context) error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	m.mu.Lock()
	m.collectLocked()
	pending := make(map[string]Totals, len(m.pending))
	for s, t := range m.pending {
		pending[s] = t
	}
	m.mu.Unlock()
	day := dayKey(m.cfg.Now())
	type put struct {
		svc, key string
		d, t     Totals
	}
	var errs []error
	batch := make([]put, 0, min(len(pending), flushWindow))
	acks := make([]jetstream.PubAckFuture, 0, cap(batch))
	// wait collects the batch's acknowledgements: a stored total becomes
	// what this node stored there, and its growth leaves pending.
	wait := func() {
		for i, err := range store.AwaitAcks(ctx, acks) {
			p := batch[i]
			if err != nil {
				errs = append(errs, fmt.Errorf("store usage of %s: %w", p.svc, err))
				continue
			}
			m.stored[p.key] = p.t
			m.mu.Lock()
			if rest := m.pending[p.svc].sub(p.d); rest.IsZero() {
				delete(m.pending, p.svc)
			} else {
				m.pending[p.svc] = rest
			}
			m.mu.Unlock()
		}
		batch, acks = batch[:0], acks[:0]
	}
	for svc, d := range pending {
		key := day + "." + svc + "." + m.cfg.Node
		t := m.stored[key]
		t.Add(d)
		b, _ := json.Marshal(t)
		// A KV put is a publish to the key's subject; publishing them
		// without waiting for each acknowledgement in turn stores a
		// thousand services' growth in a few round trips instead of a
		// thousand (which kept a core busy for ~14 ms every second on a
		// node where all of them ran, and showed in its latency). A
		// failed or unacknowledged one stays pending: the next flush
		// stores the total again (a total, not an increment, so a put
		// that landed without its acknowledgement is not counted twice).
		ack, err := m.js.PublishAsync(m.subject(key), b)
		if err != nil {
			errs = append(errs, fmt.Errorf("store usage of %s: %w", svc, err))
			continue
		}
		batch, acks = append(batch, put{svc: svc, key: key, d: d, t: t}), append(acks, ack)
		if len(batch) == flushWindow {
			wait()
		}
	}
	wait()
	return errors.Join(errs...)
}

// flushWindow bounds the puts of one flush awaiting acknowledgement (below
// the client's own limit on pending asynchronous publishes).
const flushWindow = 256

// subject is the subject a put of key in the usage bucket publishes to
// (the KV layout of NATS ADR-8: $KV.<bucket>.<key>; the bucket has no
// mirror or JetStream domain, which would change it).
func (m *Meter) subject(key string) string { return "$KV." + m.kv.Bucket() + "." + key }

// Query selects usage: the UTC days from Since's day to today, of one
// service or ("") of all.
type Query struct {
	Since   time.Time
	Service string
}

// Row is one service's usage on one UTC day, over every node.
type Row struct {
	Day     string `json:"day"` // YYYY-MM-DD
	Service string `json:"service"`
	Totals
}

// Query adds up the stored usage of the days and service asked for, over
// every node, plus this node's growth not stored yet. Rows are sorted by
// day, then service.
func (m *Meter) Query(ctx context.Context, q Query) ([]Row, error) {
	now := m.cfg.Now().UTC()
	first := q.Since.UTC().Truncate(24 * time.Hour)
	if first.After(now) {
		first = now.Truncate(24 * time.Hour)
	}
	var filters []string
	svc := "*"
	if q.Service != "" {
		svc = q.Service
	}
	for d := first; !d.After(now) && len(filters) < MaxDays; d = d.Add(24 * time.Hour) {
		filters = append(filters, dayKey(d)+"."+svc+".*")
	}
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	rows := map[[2]string]*Row{}
	add := func(day, service string, t Totals) {
		r := rows[[2]string{day, service}]
		if r == nil {
			r = &Row{Day: day, Service: service}
			rows[[2]string{day, service}] = r
		}
		r.Add(t)
	}
	err := m.scan(ctx, filters, func(key string, t Totals) {
		day, rest, _ := strings.Cut(key, ".")
		service, _, _ := strings.Cut(rest, ".")
		add(dayLabel(day), service, t)
	})
	if err != nil {
		return nil, err
	}
	// This node's growth not stored yet counts as today's.
	m.mu.Lock()
	unstored := map[string]Totals{}
	for s, t := range m.pending {
		unstored[s] = t
	}
	for _, c := range m.counters {
		t := unstored[c.service]
		t.Add(c.Load().sub(c.flushed))
		unstored[c.service] = t
	}
	m.mu.Unlock()
	for s, t := range unstored {
		if !t.IsZero() && (q.Service == "" || q.Service == s) {
			add(dayLabel(dayKey(now)), s, t)
		}
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Service < out[j].Service
	})
	return out, nil
}

// scan calls fn for every stored key matching one of filters.
func (m *Meter) scan(ctx context.Context, filters []string, fn func(key string, t Totals)) error {
	if len(filters) == 0 {
		return nil
	}
	w, err := m.kv.WatchFiltered(ctx, filters, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read usage: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read usage: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("read usage: the watch ended early")
			}
			if e == nil {
				return nil // caught up
			}
			var t Totals
			if err := json.Unmarshal(e.Value(), &t); err != nil {
				m.cfg.Logger.Warn("skip a usage record that does not decode", "key", e.Key(), "error", err)
				continue
			}
			fn(e.Key(), t)
		}
	}
}

func dayKey(t time.Time) string { return t.UTC().Format("20060102") }

// dayLabel turns a YYYYMMDD key token into YYYY-MM-DD.
func dayLabel(k string) string {
	if len(k) != 8 {
		return k
	}
	return k[:4] + "-" + k[4:6] + "-" + k[6:]
}
