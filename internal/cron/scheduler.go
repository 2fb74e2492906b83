package cron

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Tick is one scheduled run of one of a service's cron expressions.
type Tick struct {
	Service string
	Cron    string    // the expression as written in the manifest
	Time    time.Time // the scheduled time (UTC, whole minute)
}

// Key names the tick for deduplication: every node that fires the same
// tick produces the same key.
func (t Tick) Key() string {
	return fmt.Sprintf("cron.%s.%s.%d", t.Service, exprHash(t.Cron), t.Time.Unix())
}

// FireFunc hands a tick on. It must be idempotent by Tick.Key (the
// scheduler may call it for the same tick on several nodes or twice after
// a crash) and return only once the tick is durably queued.
type FireFunc func(ctx context.Context, t Tick) error

// Config is what a Scheduler needs.
type Config struct {
	// KV holds one record per (service, expression): the last tick fired.
	// Every node sharing a NATS shares it.
	KV    jetstream.KeyValue
	Clock Clock // default SystemClock
	Fire  FireFunc
	Log   *slog.Logger
}

// retryFire is how long a tick whose hand-off failed waits before trying
// again.
const retryFire = time.Second

// Scheduler fires the cron ticks of every service on this node. Several
// nodes may run one each over the same KV: a tick is handed on once.
type Scheduler struct {
	cfg  Config
	wake chan struct{}

	mu      sync.Mutex
	entries map[string][]*entry // by service
}

type entry struct {
	service string
	expr    *Expr
	src     string    // as written
	due     time.Time // the tick to fire next; zero until initialised
	at      time.Time // when to try (due, or later after a failure)
	init    bool      // the KV record has been read or created
}

// record is the KV value per (service, expression).
type record struct {
	Cron string    `json:"cron"`
	Last time.Time `json:"last"` // the last tick handed on; ticks at or before it are done
}

// New makes a Scheduler; Run starts it.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, wake: make(chan struct{}, 1), entries: map[string][]*entry{}}
}

// exprHash keys an expression in KV; the same expression written with
// other spacing is the same schedule.
func exprHash(src string) string {
	e, err := Parse(src)
	norm := src
	if err == nil {
		norm = e.String()
	}
	h := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(h[:8])
}

func recordKey(service, src string) string { return "cron." + service + "." + exprHash(src) }

// Set replaces the cron expressions of a service (none removes it). An
// expression that does not parse is logged and skipped; manifests are
// validated at deploy, so that cannot happen for a stored version.
// Records of expressions the service no longer has are deleted, so that
// adding one back later starts afresh.
func (s *Scheduler) Set(ctx context.Context, service string, crons []string) {
	s.mu.Lock()
	old := s.entries[service]
	keep := map[string]*entry{}
	for _, e := range old {
		keep[e.expr.String()] = e
	}
	var next []*entry
	seen := map[string]bool{}
	for _, src := range crons {
		expr, err := Parse(src)
		if err != nil {
			s.cfg.Log.Error("bad cron expression; skipped", "service", service, "cron", src, "error", err)
			continue
		}
		if seen[expr.String()] {
			continue
		}
		seen[expr.String()] = true
		if e := keep[expr.String()]; e != nil {
			next = append(next, e)
			delete(keep, expr.String())
			continue
		}
		next = append(next, &entry{service: service, expr: expr, src: src})
	}
	if len(next) == 0 {
		delete(s.entries, service)
	} else {
		s.entries[service] = next
	}
	s.mu.Unlock()
	for _, gone := range keep {
		if err := s.cfg.KV.Delete(ctx, recordKey(service, gone.src)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.cfg.Log.Warn("delete cron record", "service", service, "cron", gone.src, "error", err)
		}
	}
	s.poke()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// NextRun is the earliest next run of crons after now, or false when
// there are none (or none parses).
func NextRun(crons []string, now time.Time) (time.Time, bool) {
	var best time.Time
	for _, src := range crons {
		e, err := Parse(src)
		if err != nil {
			continue
		}
		if n := e.Next(now); !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	return best, !best.IsZero()
}

// Run fires ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	// The timer is kept across wake-ups while its deadline stands, so
	// changes to other services' schedules do not pile up timers.
	var timer <-chan time.Time
	var timerAt time.Time
	for {
		now := s.cfg.Clock.Now()
		for _, e := range s.dueEntries(now) {
			s.step(ctx, e, now)
		}
		if wait := s.untilNext(now); wait < 0 {
			timer = nil
		} else if at := now.Add(wait); timer == nil || !at.Equal(timerAt) {
			timer, timerAt = s.cfg.Clock.After(wait), at
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer:
			timer = nil
		}
	}
}

// dueEntries lists the entries to work on at now, in a stable order.
func (s *Scheduler) dueEntries(now time.Time) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*entry
	for _, es := range s.entries {
		for _, e := range es {
			if !e.init || !e.at.After(now) {
				due = append(due, e)
			}
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].service != due[j].service {
			return due[i].service < due[j].service
		}
		return due[i].src < due[j].src
	})
	return due
}

// untilNext is how long until the next entry needs work, or -1 if none.
func (s *Scheduler) untilNext(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := time.Duration(-1)
	for _, es := range s.entries {
		for _, e := range es {
			d := max(e.at.Sub(now), 0)
			if !e.init {
				d = retryFire
			}
			if wait < 0 || d < wait {
				wait = d
			}
		}
	}
	return wait
}

// current reports whether e is still scheduled (Set may have replaced it
// while it was being worked on).
func (s *Scheduler) current(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.entries[e.service] {
		if x == e {
			return true
		}
	}
	return false
}

// step initialises e or fires its due tick.
func (s *Scheduler) step(ctx context.Context, e *entry, now time.Time) {
	if !s.current(e) {
		return
	}
	if !e.init {
		s.initEntry(ctx, e, now)
		return
	}
	// A tick that could not be handed on in time is superseded by the
	// latest one due: fire once, never a backlog.
	if latest := e.expr.Prev(now); latest.After(e.due) {
		e.due = latest
	}
	if err := s.fire(ctx, e, e.due); err != nil {
		s.cfg.Log.Warn("cron tick not handed on; retrying", "service", e.service, "cron", e.src, "tick", e.due, "error", err)
		s.setAt(e, e.due, now.Add(retryFire))
		return
	}
	next := e.expr.Next(now)
	s.setAt(e, next, next)
}

func (s *Scheduler) setAt(e *entry, due, at time.Time) {
	s.mu.Lock()
	e.due, e.at = due, at
	s.mu.Unlock()
}

// initEntry reads (or creates) e's record. A tick due since the record
// was last written (every node was down, or the schedule was re-read
// after a restart) is fired once, now.
func (s *Scheduler) initEntry(ctx context.Context, e *entry, now time.Time) {
	key := recordKey(e.service, e.src)
	rec, _, err := s.read(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		// New schedule: ticks up to now are not owed.
		b, _ := json.Marshal(record{Cron: e.expr.String(), Last: now.UTC().Truncate(time.Minute)})
		if _, err = s.cfg.KV.Create(ctx, key, b); err == nil {
			next := e.expr.Next(now)
			s.mu.Lock()
			e.init, e.due, e.at = true, next, next
			s.mu.Unlock()
			return
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			s.cfg.Log.Warn("create cron record", "service", e.service, "cron", e.src, "error", err)
			return
		}
		rec, _, err = s.read(ctx, key) // another node created it first
	}
	if err != nil {
		s.cfg.Log.Warn("read cron record", "service", e.service, "cron", e.src, "error", err)
		return
	}
	due := e.expr.Next(now)
	if prev := e.expr.Prev(now); !prev.IsZero() && prev.After(rec.Last) {
		due = prev // missed: fire it once, now
		s.cfg.Log.Info("firing a missed cron tick", "service", e.service, "cron", e.src, "tick", prev, "last_fired", rec.Last)
	}
	s.mu.Lock()
	e.init, e.due, e.at = true, due, due
	s.mu.Unlock()
	if !due.After(now) {
		s.step(ctx, e, now)
	}
}

func (s *Scheduler) read(ctx context.Context, key string) (*record, uint64, error) {
	kve, err := s.cfg.KV.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	var rec record
	if err := json.Unmarshal(kve.Value(), &rec); err != nil {
		return nil, 0, fmt.Errorf("decode cron record %s: %w", key, err)
	}
	return &rec, kve.Revision(), nil
}

// fire hands tick t of e on unless a node already did, then records it.
// The hand-off comes first: a crash between the two fires the tick again
// at worst (deduplicated by Tick.Key within the queue's window), never
// loses it.
func (s *Scheduler) fire(ctx context.Context, e *entry, t time.Time) error {
	key := recordKey(e.service, e.src)
	rec, _, err := s.read(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		rec = &record{Cron: e.expr.String()}
	case err != nil:
		return err
	}
	if !t.After(rec.Last) {
		return nil // another node fired it
	}
	if err := s.cfg.Fire(ctx, Tick{Service: e.service, Cron: e.src, Time: t}); err != nil {
		return fmt.Errorf("hand on tick: %w", err)
	}
	return s.record(ctx, key, e, t)
}

// record moves the record's Last forward to t, unless it is already there.
func (s *Scheduler) record(ctx context.Context, key string, e *entry, t time.Time) error {
	for range 10 {
		b, _ := json.Marshal(record{Cron: e.expr.String(), Last: t})
		rec, rev, err := s.read(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err = s.cfg.KV.Create(ctx, key, b); err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if !t.After(rec.Last) {
			return nil
		}
		if _, err = s.cfg.KV.Update(ctx, key, b, rev); err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
	}
	return fmt.Errorf("record cron tick %s: too many concurrent writers", key)
}
