package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/runtime"
)

// ErrOverloaded means every instance was busy and the wait queue full (or
// the wait outlasted the caller's deadline). Callers answer 503.
var ErrOverloaded = errors.New("service is at capacity")

// ErrClosed means the pool was closed (its version was removed, or the
// node is shutting down) before an instance could be taken.
var ErrClosed = errors.New("service version is no longer active")

// DefaultKeepAlive is how long an idle instance above min_instances lives
// unless PoolConfig says otherwise.
const DefaultKeepAlive = 60 * time.Second

// PoolConfig sizes a pool. The zero value of every field but Max is a
// sensible default.
type PoolConfig struct {
	Min, Max int // instances kept warm; instances at most
	MaxQueue int // callers allowed to wait for an instance; 0 means 4×Max
	// KeepAlive is how long an idle instance lives above Min before it is
	// stopped (scale to zero when Min is 0). 0 means DefaultKeepAlive; a
	// negative value keeps idle instances until the pool closes.
	KeepAlive time.Duration
	// MaxRequests recycles an instance after that many invocations; 0
	// never does.
	MaxRequests int
	// MaxMemory recycles an instance that reports (MemoryReporter)
	// more bytes in use than this after an invocation; 0 never does.
	MaxMemory int64
	// Memory is what one instance reserves from Budget's memory; Budget
	// may be nil (no node-wide limit).
	Memory int64
	Budget *Budget
	// Observe observes the pool's invocations (metrics, traces, usage);
	// nil observes nothing. The pool closes it once drained.
	Observe *observe.Service
}

// Pool runs invocations of one version on up to Max instances, one
// invocation per instance at a time.
//
// A slot token is held by every invocation in progress (and by Prewarm
// while it creates an instance), so at most Max instances are ever busy.
// An instance is created only by a slot holder that found no idle one,
// which keeps idle+busy <= Max. Creating one also takes a unit of the
// node's Budget when there is one.
//
// Lock order: a Pool's mu and its Budget's mu are never held together.
type Pool struct {
	mod  runtime.Module
	cfg  PoolConfig
	log  *slog.Logger
	slot chan struct{}
	done chan struct{} // closed by Close: wakes callers waiting for a slot
	// idleWake tells a caller waiting for budget that an instance of its
	// own pool became idle.
	idleWake      chan struct{}
	budgetWaiting atomic.Int32
	next          atomic.Pointer[Pool] // the version that replaced this one

	mu       sync.Mutex
	idle     []*entry // LIFO: the warmest at the end, the oldest first
	total    int      // instances alive or being created (idle + busy)
	closed   bool
	timer    *time.Timer // keep-alive reaper, armed while idle ones may expire
	armed    bool
	drained  chan struct{} // closed once closed and no instance is left
	refiling bool          // a refill to Min is under way
	closing  int           // counted in total, out of idle, being stopped

	evictable atomic.Bool // an idle instance above Min exists (for Budget)
	waiting   atomic.Int64
	stats     Stats
}

// MemoryReporter is implemented by instances that can tell how much
// memory they use (a wasm instance's linear memory, say); pools recycle
// those that grow past PoolConfig.MaxMemory.
type MemoryReporter interface {
	MemoryBytes() int64
}

// entry is an instance and what the pool knows about it.
type entry struct {
	inst      runtime.Instance
	uses      int
	idleSince time.Time
	cold      bool // created for the invocation that holds it
}

// NewPool makes a pool; it starts no instance until Prewarm or a call. The
// pool owns mod: it closes it once the pool is closed and drained.
func NewPool(mod runtime.Module, cfg PoolConfig, log *slog.Logger) *Pool {
	cfg.Max = max(cfg.Max, 1)
	cfg.Min = max(min(cfg.Min, cfg.Max), 0)
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 4 * cfg.Max
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{
		mod: mod, cfg: cfg, log: log,
		slot: make(chan struct{}, cfg.Max), done: make(chan struct{}),
		idleWake: make(chan struct{}, 1), drained: make(chan struct{}),
	}
	for range cfg.Max {
		p.slot <- struct{}{}
	}
	if cfg.Budget != nil {
		cfg.Budget.register(p)
	}
	return p
}

// Observer is what observes the pool's invocations (nil when nothing
// does): callers that begin an invocation themselves use it.
func (p *Pool) Observer() *observe.Service { return p.cfg.Observe }

// Config is the pool's configuration with defaults applied.
func (p *Pool) Config() PoolConfig { return p.cfg }

// Prewarm starts instances until max(n, Min) exist (at most Max). The first
// error (a version whose code cannot be instantiated, or no budget before
// ctx ends) is returned.
func (p *Pool) Prewarm(ctx context.Context, n int) error {
	n = min(max(n, p.cfg.Min), p.cfg.Max)
	for {
		select {
		case <-p.slot:
		default:
			return nil // every slot is in use: the pool is warm enough
		}
		p.mu.Lock()
		if p.closed || p.total >= n {
			p.mu.Unlock()
			p.slot <- struct{}{}
			return nil
		}
		p.total++
		p.mu.Unlock()
		inst, err := p.create(ctx)
		if err != nil {
			p.slot <- struct{}{}
			return err
		}
		p.stats.Prewarmed.Add(1)
		p.release(&entry{inst: inst}, false)
	}
}

// create makes an instance for a caller that counted it in p.total: it
// takes a unit of the budget, then instantiates. On failure it uncounts it.
func (p *Pool) create(ctx context.Context) (runtime.Instance, error) {
	if b := p.cfg.Budget; b != nil {
		if err := b.reserve(ctx, p); err != nil {
			p.uncount()
			return nil, err
		}
	}
	inst, err := p.mod.NewInstance(ctx)
	if err != nil {
		p.uncount()
		if b := p.cfg.Budget; b != nil {
			b.release(p)
		}
		return nil, err
	}
	return inst, nil
}

func (p *Pool) uncount() {
	p.mu.Lock()
	p.total--
	drained := p.drainedLocked()
	p.mu.Unlock()
	if drained {
		p.finish()
	}
}

// acquire takes a slot, then an idle instance or a new one.
func (p *Pool) acquire(ctx context.Context) (*entry, error) {
	select {
	case <-p.done:
		return nil, ErrClosed // even when every slot is busy
	default:
	}
	select {
	case <-p.slot:
	default:
		if p.waiting.Add(1) > int64(p.cfg.MaxQueue) {
			p.waiting.Add(-1)
			p.stats.Rejected.Add(1)
			return nil, ErrOverloaded
		}
		select {
		case <-p.slot:
			p.waiting.Add(-1)
		case <-p.done:
			p.waiting.Add(-1)
			return nil, ErrClosed
		case <-ctx.Done():
			p.waiting.Add(-1)
			p.stats.Rejected.Add(1)
			return nil, fmt.Errorf("%w: no instance became free before the deadline", ErrOverloaded)
		}
	}
	if ctx.Err() != nil {
		// The caller is gone or out of time: running the guest now would
		// only interrupt it at once and throw a good instance away.
		p.slot <- struct{}{}
		p.stats.Rejected.Add(1)
		return nil, fmt.Errorf("%w: the request ended before an instance could run it", ErrOverloaded)
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			p.slot <- struct{}{}
			return nil, ErrClosed
		}
		if n := len(p.idle); n > 0 {
			e := p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
			p.noteIdleLocked()
			p.mu.Unlock()
			return e, nil
		}
		p.total++
		p.mu.Unlock()
		inst, err := p.create(ctx)
		if errors.Is(err, errIdleAvailable) {
			continue // one of ours came back while we waited for budget
		}
		if err != nil {
			p.slot <- struct{}{}
			if errors.Is(err, ErrOverloaded) {
				p.stats.Rejected.Add(1)
			}
			return nil, err
		}
		p.stats.ColdStarts.Add(1)
		return &entry{inst: inst, cold: true}, nil
	}
}

// release returns an instance (closing it when broken, worn out, wanted by
// a starved service, or when the pool is closed) and gives back its slot.
func (p *Pool) release(e *entry, broken bool) {
	recycle := !broken && p.wornOut(e)
	shed := !broken && !recycle && p.cfg.Budget != nil && p.cfg.Budget.shouldShed(p)
	p.mu.Lock()
	if broken || recycle || shed || p.closed {
		p.mu.Unlock()
		switch {
		case broken:
			p.stats.Discarded.Add(1)
		case recycle:
			p.stats.Recycled.Add(1)
		case shed:
			p.stats.Evicted.Add(1)
		}
		p.stop(e)
		p.slot <- struct{}{}
		return
	}
	e.idleSince = time.Now()
	p.idle = append(p.idle, e)
	p.noteIdleLocked()
	p.armLocked()
	p.mu.Unlock()
	p.slot <- struct{}{}
	if p.budgetWaiting.Load() > 0 {
		select {
		case p.idleWake <- struct{}{}:
		default:
		}
	}
}

// stop closes instances the pool no longer holds (in no idle list) and
// only then uncounts them, so that alive instances never outnumber Max.
// It refills the pool to Min in the background when it fell below.
func (p *Pool) stop(es ...*entry) { p.stopCounted(0, es) }

func (p *Pool) stopCounted(closing int, es []*entry) {
	for _, e := range es {
		p.closeInstance(e.inst)
	}
	p.mu.Lock()
	p.total -= len(es)
	p.closing -= closing
	p.noteIdleLocked()
	refill := !p.closed && p.total < p.cfg.Min && !p.refiling
	if refill {
		p.refiling = true
	}
	drained := p.drainedLocked()
	p.mu.Unlock()
	if refill {
		go p.refill()
	}
	if drained {
		p.finish()
	}
}

// wornOut reports whether an instance has served its MaxRequests or grown
// past MaxMemory.
func (p *Pool) wornOut(e *entry) bool {
	e.uses++
	if p.cfg.MaxRequests > 0 && e.uses >= p.cfg.MaxRequests {
		return true
	}
	if p.cfg.MaxMemory > 0 {
		if m, ok := e.inst.(MemoryReporter); ok && m.MemoryBytes() > p.cfg.MaxMemory {
			return true
		}
	}
	return false
}

// refill brings the pool back to Min after instances were thrown away.
func (p *Pool) refill() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Prewarm(ctx, p.cfg.Min)
	p.mu.Lock()
	p.refiling = false
	p.mu.Unlock()
	if err != nil {
		p.log.Warn("cannot bring the pool back to min_instances", "min", p.cfg.Min, "error", err)
	}
}

// closeInstance stops an instance and gives its budget unit back.
func (p *Pool) closeInstance(inst runtime.Instance) {
	inst.Close()
	if b := p.cfg.Budget; b != nil {
		b.release(p)
	}
}

// noteIdleLocked publishes whether the pool has an idle instance that the
// budget may evict (one above Min).
func (p *Pool) noteIdleLocked() {
	p.evictable.Store(len(p.idle) > 0 && p.total-p.closing > p.cfg.Min)
}

// evictOldest stops the longest-idle instance above Min for the budget;
// it reports whether it stopped one.
func (p *Pool) evictOldest() bool {
	p.mu.Lock()
	if len(p.idle) == 0 || p.total-p.closing <= p.cfg.Min {
		p.noteIdleLocked()
		p.mu.Unlock()
		return false
	}
	e := p.idle[0]
	p.idle = slices.Delete(p.idle, 0, 1)
	p.closing++
	p.noteIdleLocked()
	p.mu.Unlock()
	p.stats.Evicted.Add(1)
	p.stopClosing(e)
	return true
}

// stopClosing stops instances taken out of the idle list and counted in
// p.closing.
func (p *Pool) stopClosing(es ...*entry) { p.stopCounted(len(es), es) }

// Do runs one invocation on an instance of the pool: fn has the instance
// to itself until it returns. An error for which runtime.MustDiscard holds
// throws the instance away. If the pool is replaced by a newer version
// (Retire) while the caller waits, the invocation runs on the newer one.
func (p *Pool) Do(ctx context.Context, fn func(context.Context, runtime.Instance) error) error {
	ctx, inv := p.cfg.Observe.Adopt(ctx, nil)
	p, e, err := p.take(ctx, inv)
	if err != nil {
		return err
	}
	// Until fn returns the instance counts as broken, so that a panic
	// (net/http recovers it) throws it away and frees its slot.
	broken, lingering, ran := true, false, error(errPanicked)
	defer func() { p.end(inv, e, broken, lingering, ran) }()
	err = fn(ctx, e.inst)
	broken, ran = runtime.MustDiscard(err), err
	lingering = p.linger(inv, e, broken)
	return err
}

// Fetch runs an HTTP invocation on an instance of the pool (Do without a
// closure on the hot path).
func (p *Pool) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	ctx, inv := p.cfg.Observe.Adopt(ctx, req)
	p, e, err := p.take(ctx, inv)
	if err != nil {
		return err
	}
	broken, lingering, ran := true, false, error(errPanicked)
	defer func() { p.end(inv, e, broken, lingering, ran) }()
	// Every invocation gets its own budget of subrequests (outbound
	// fetches, service-binding calls), whatever the runtime.
	ctx = binding.StartInvocation(ctx, binding.DefaultMaxSubrequests)
	err = e.inst.Fetch(ctx, req, w)
	broken, ran = runtime.MustDiscard(err), err
	lingering = p.linger(inv, e, broken)
	return err
}

// errPanicked is what an invocation whose guest call panicked ended with.
var errPanicked = errors.New("the invocation panicked")

// end stops observing the guest's run of an invocation (on the goroutine
// that ran it) and releases its instance, unless lingering work keeps it.
func (p *Pool) end(inv *observe.Invocation, e *entry, broken, lingering bool, err error) {
	inv.Stop(err)
	if !lingering {
		p.release(e, broken)
	}
}

// linger keeps an instance busy while ctx.waitUntil work it left after
// its response goes on (runtime.Lingerer), releasing it once that is
// done; it reports whether it took over the release. The invocation is
// observed until then.
func (p *Pool) linger(inv *observe.Invocation, e *entry, broken bool) bool {
	l, ok := e.inst.(runtime.Lingerer)
	if !ok || broken {
		return false
	}
	ch := l.Linger()
	if ch == nil {
		return false
	}
	inv.Linger()
	go func() {
		err := <-ch
		inv.Released()
		p.release(e, runtime.MustDiscard(err))
	}()
	return true
}

// take acquires an instance of p, or of the pool that replaced p, and
// starts observing the invocation on it.
func (p *Pool) take(ctx context.Context, inv *observe.Invocation) (*Pool, *entry, error) {
	for {
		e, err := p.acquire(ctx)
		if errors.Is(err, ErrClosed) {
			if next := p.next.Load(); next != nil {
				p = next
				continue
			}
		}
		if err != nil {
			inv.Refuse(err)
			return p, nil, err
		}
		p.stats.Invocations.Add(1)
		inv.Start(p.cfg.Observe, e.cold)
		e.cold = false
		return p, e, nil
	}
}

// Close stops idle instances and makes busy ones close when they finish.
// Callers waiting for an instance, and later ones, get ErrClosed. Once the
// last instance is gone the module is closed and Drained is closed.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	if p.timer != nil {
		p.timer.Stop()
		p.armed = false
	}
	idle := p.idle
	p.idle = nil
	p.noteIdleLocked()
	p.mu.Unlock()
	p.stop(idle...)
}

// Retire closes the pool for a newer version of the same service: callers
// still waiting for an instance, and any that arrive later, are served by
// next instead of failing. In-flight invocations finish on this pool.
func (p *Pool) Retire(next *Pool) {
	if next != nil && next != p {
		p.next.Store(next)
	}
	p.Close()
}

// Drained is closed once the pool is closed and its last instance (busy
// ones included) has been stopped.
func (p *Pool) Drained() <-chan struct{} { return p.drained }

func (p *Pool) drainedLocked() bool {
	if !p.closed || p.total != 0 {
		return false
	}
	select {
	case <-p.drained:
		return false // already finished
	default:
	}
	close(p.drained)
	return true
}

// finish runs once, after the pool drained.
func (p *Pool) finish() {
	if b := p.cfg.Budget; b != nil {
		b.unregister(p)
	}
	p.mod.Close()
	p.cfg.Observe.Close()
}

// armLocked schedules the keep-alive reaper for the oldest idle instance.
func (p *Pool) armLocked() {
	if p.cfg.KeepAlive < 0 || p.armed || p.closed || len(p.idle) == 0 || p.total-p.closing <= p.cfg.Min {
		return
	}
	d := time.Until(p.idle[0].idleSince.Add(p.cfg.KeepAlive))
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.reap)
	} else {
		p.timer.Reset(d)
	}
	p.armed = true
}

// reap stops instances idle for KeepAlive or longer, down to Min.
func (p *Pool) reap() {
	now := time.Now()
	p.mu.Lock()
	p.armed = false
	k := 0
	for k < len(p.idle) && p.total-p.closing-k > p.cfg.Min && now.Sub(p.idle[k].idleSince) >= p.cfg.KeepAlive {
		k++
	}
	expired := slices.Clone(p.idle[:k])
	p.idle = slices.Delete(p.idle, 0, k)
	p.closing += k
	p.noteIdleLocked()
	p.armLocked()
	p.mu.Unlock()
	if k == 0 {
		return
	}
	p.stats.Expired.Add(uint64(k))
	p.stopClosing(expired...)
}

// Counts reports instances alive, idle and callers waiting.
func (p *Pool) Counts() (total, idle, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, len(p.idle), int(p.waiting.Load())
}

// Stats returns the pool's counters.
func (p *Pool) Stats() *Stats { return &p.stats }

// Snapshot returns the pool's gauges and counters at one moment.
func (p *Pool) Snapshot() PoolSnapshot {
	total, idle, waiting := p.Counts()
	return PoolSnapshot{
		Instances: total, Idle: idle, Busy: total - idle, Waiting: waiting,
		Min: p.cfg.Min, Max: p.cfg.Max, Counters: p.stats.Load(),
	}
}
