package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// errIdleAvailable tells a caller waiting for budget that its own pool has
// an idle instance now; it never leaves the package.
var errIdleAvailable = errors.New("an instance of the pool became idle")

// Budget bounds the instances (and the memory they reserve) of every pool
// on a node, and shares them fairly between services under pressure.
//
// Every instance holds one unit. When the budget is full, a pool that needs
// one more instance first evicts the longest-idle instance of the pool
// holding the most units; if no pool has an idle instance to spare, it
// waits. A pool that finishes an invocation while another pool with
// fewer units (by at least two) waits stops that instance instead of
// keeping it idle, handing its unit over. Waiting pools are served fewest
// units first. So a service saturated with traffic keeps at most its fair
// share once others need instances, and the others are served within one
// invocation of it.
type Budget struct {
	maxInstances int
	maxMemory    int64
	nwaiters     atomic.Int32

	mu      sync.Mutex
	used    int
	usedMem int64
	held    map[*Pool]int
	pools   map[*Pool]struct{}
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	p       *Pool
	ready   chan struct{}
	granted bool
}

// NewBudget makes a budget of maxInstances instances and maxMemory bytes
// (reserved at each pool's PoolConfig.Memory per instance). Zero means no
// limit on that dimension.
func NewBudget(maxInstances int, maxMemory int64) *Budget {
	return &Budget{maxInstances: maxInstances, maxMemory: maxMemory, held: map[*Pool]int{}, pools: map[*Pool]struct{}{}}
}

func (b *Budget) register(p *Pool) {
	b.mu.Lock()
	b.pools[p] = struct{}{}
	b.mu.Unlock()
}

func (b *Budget) unregister(p *Pool) {
	b.mu.Lock()
	delete(b.pools, p)
	b.mu.Unlock()
}

func (b *Budget) fitsLocked(mem int64) bool {
	return (b.maxInstances <= 0 || b.used < b.maxInstances) && (b.maxMemory <= 0 || b.usedMem+mem <= b.maxMemory)
}

func (b *Budget) grantLocked(p *Pool) {
	b.used++
	b.usedMem += p.cfg.Memory
	b.held[p]++
}

// reserve takes a unit for one new instance of p, evicting idle instances
// of other pools or waiting when the budget is full. It returns
// ErrOverloaded when ctx ends first, ErrClosed when p closes, and
// errIdleAvailable when an instance of p became idle meanwhile.
func (b *Budget) reserve(ctx context.Context, p *Pool) error {
	if b.maxMemory > 0 && p.cfg.Memory > b.maxMemory {
		return fmt.Errorf("%w: one instance needs %d MiB, more than the node's budget of %d MiB", ErrOverloaded, p.cfg.Memory>>20, b.maxMemory>>20)
	}
	for {
		b.mu.Lock()
		if b.fitsLocked(p.cfg.Memory) {
			b.grantLocked(p)
			b.mu.Unlock()
			return nil
		}
		if victim := b.victimLocked(p); victim != nil {
			b.mu.Unlock()
			victim.evictOldest()
			continue
		}
		w := &budgetWaiter{p: p, ready: make(chan struct{})}
		b.waiters = append(b.waiters, w)
		b.nwaiters.Add(1)
		p.budgetWaiting.Add(1)
		b.mu.Unlock()

		var err error
		select {
		case <-w.ready:
		case <-ctx.Done():
			err = fmt.Errorf("%w: no instance could be started within the node's budget before the deadline", ErrOverloaded)
		case <-p.done:
			err = ErrClosed
		case <-p.idleWake:
			err = errIdleAvailable
		}
		p.budgetWaiting.Add(-1)
		if err == nil || !b.cancel(w) {
			return nil // granted, maybe at the same moment as err: use it
		}
		return err
	}
}

// cancel withdraws a waiter; it reports false when the unit was granted
// already.
func (b *Budget) cancel(w *budgetWaiter) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return false
	}
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			b.nwaiters.Add(-1)
			break
		}
	}
	return true
}

// victimLocked picks the pool, other than p, holding the most units that
// has an idle instance above its Min; p's own idle ones it would use.
func (b *Budget) victimLocked(p *Pool) *Pool {
	var best *Pool
	for q := range b.pools {
		if q == p || !q.evictable.Load() {
			continue
		}
		if best == nil || b.held[q] > b.held[best] {
			best = q
		}
	}
	return best
}

// release gives back the unit of one stopped instance of p and hands it
// to the waiting pool that holds the fewest units.
func (b *Budget) release(p *Pool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used--
	b.usedMem -= p.cfg.Memory
	if b.held[p]--; b.held[p] <= 0 {
		delete(b.held, p)
	}
	for len(b.waiters) > 0 {
		i := b.neediestLocked()
		w := b.waiters[i]
		if !b.fitsLocked(w.p.cfg.Memory) {
			return
		}
		b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
		b.nwaiters.Add(-1)
		b.grantLocked(w.p)
		w.granted = true
		close(w.ready)
	}
}

// neediestLocked is the index of the first waiter whose pool holds the
// fewest units.
func (b *Budget) neediestLocked() int {
	best := 0
	for i, w := range b.waiters {
		if b.held[w.p] < b.held[b.waiters[best].p] {
			best = i
		}
	}
	return best
}

// shouldShed reports whether p, finishing an invocation, should stop that
// instance so that a waiting pool with fewer units can have its unit.
func (b *Budget) shouldShed(p *Pool) bool {
	if b.nwaiters.Load() == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	mine := b.held[p]
	for _, w := range b.waiters {
		if w.p != p && b.held[w.p]+1 < mine {
			return true
		}
	}
	return false
}

// Snapshot returns the budget's state at one moment.
func (b *Budget) Snapshot() BudgetSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetSnapshot{
		MaxInstances: b.maxInstances, MaxMemory: b.maxMemory,
		Instances: b.used, Memory: b.usedMem, Waiting: len(b.waiters), Pools: len(b.pools),
	}
}
