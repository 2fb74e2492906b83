package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/wisp-run/wisp/internal/runtime"
)

// ErrOverloaded means every instance was busy and the wait queue full (or
// the wait outlasted the caller's deadline). Callers answer 503.
var ErrOverloaded = errors.New("service is at capacity")

// ErrClosed means the pool was closed (its version was replaced or
// removed) before an instance could be taken.
var ErrClosed = errors.New("service version is no longer active")

// PoolConfig sizes a pool.
type PoolConfig struct {
	Min, Max int // instances kept warm; instances at most
	MaxQueue int // callers allowed to wait for an instance; 0 means 4×Max
}

// Pool runs invocations of one version on up to Max instances, one
// invocation per instance at a time.
//
// A slot token is held by every invocation in progress (and by Prewarm
// while it creates an instance), so at most Max instances are ever busy.
// An instance is created only by a slot holder that found no idle one,
// which keeps idle+busy <= Max.
type Pool struct {
	mod  runtime.Module
	cfg  PoolConfig
	log  *slog.Logger
	slot chan struct{}
	done chan struct{} // closed by Close: wakes callers waiting for a slot

	mu     sync.Mutex
	idle   []runtime.Instance // LIFO: the warmest instance first
	total  int                // instances alive (idle + busy)
	closed bool

	waiting atomic.Int64
	stats   Stats
}

// Stats counts what a pool did.
type Stats struct {
	ColdStarts atomic.Uint64 // instances created because none was idle
	Discarded  atomic.Uint64 // instances thrown away after a failure
	Rejected   atomic.Uint64 // calls refused with ErrOverloaded
}

// NewPool makes a pool; it starts no instance until Prewarm or a call.
func NewPool(mod runtime.Module, cfg PoolConfig, log *slog.Logger) *Pool {
	cfg.Max = max(cfg.Max, 1)
	cfg.Min = min(cfg.Min, cfg.Max)
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 4 * cfg.Max
	}
	p := &Pool{mod: mod, cfg: cfg, log: log, slot: make(chan struct{}, cfg.Max), done: make(chan struct{})}
	for range cfg.Max {
		p.slot <- struct{}{}
	}
	return p
}

// Prewarm starts instances until max(n, Min) exist (at most Max). The first
// error (a version whose code cannot be instantiated) is returned.
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
		inst, err := p.mod.NewInstance(ctx)
		if err != nil {
			p.mu.Lock()
			p.total--
			p.mu.Unlock()
			p.slot <- struct{}{}
			return err
		}
		p.release(inst, false)
	}
}

// acquire takes a slot, then an idle instance or a new one.
func (p *Pool) acquire(ctx context.Context) (runtime.Instance, error) {
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
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.slot <- struct{}{}
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return inst, nil
	}
	p.total++
	p.mu.Unlock()
	inst, err := p.mod.NewInstance(ctx)
	if err != nil {
		p.mu.Lock()
		p.total--
		p.mu.Unlock()
		p.slot <- struct{}{}
		return nil, err
	}
	p.stats.ColdStarts.Add(1)
	return inst, nil
}

// release returns an instance (closing it when broken or when the pool is
// closed) and gives back its slot.
func (p *Pool) release(inst runtime.Instance, broken bool) {
	p.mu.Lock()
	if broken || p.closed {
		p.total--
		p.mu.Unlock()
		if broken {
			p.stats.Discarded.Add(1)
		}
		inst.Close()
	} else {
		p.idle = append(p.idle, inst)
		p.mu.Unlock()
	}
	p.slot <- struct{}{}
}

// Fetch runs an HTTP invocation on an instance of the pool.
func (p *Pool) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	inst, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	// Until Fetch returns the instance counts as broken, so that a panic
	// (net/http recovers it) throws it away and frees its slot.
	broken, lingering := true, false
	defer func() {
		if !lingering {
			p.release(inst, broken)
		}
	}()
	err = inst.Fetch(ctx, req, w)
	broken = runtime.MustDiscard(err)
	if l, ok := inst.(runtime.Lingerer); ok && !broken {
		if ch := l.Linger(); ch != nil {
			// The response is sent but ctx.waitUntil work goes on: the
			// instance stays busy, holding its slot, until it is done.
			lingering = true
			go func() { p.release(inst, runtime.MustDiscard(<-ch)) }()
		}
	}
	return err
}

// Close stops idle instances and makes busy ones close when they finish.
// Callers waiting for an instance, and later ones, get ErrClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	idle := p.idle
	p.idle = nil
	p.total -= len(idle)
	p.mu.Unlock()
	for _, inst := range idle {
		inst.Close()
	}
}

// Counts reports instances alive, idle and callers waiting.
func (p *Pool) Counts() (total, idle, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, len(p.idle), int(p.waiting.Load())
}

// Stats returns the pool's counters.
func (p *Pool) Stats() *Stats { return &p.stats }
