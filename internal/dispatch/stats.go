package dispatch

import "sync/atomic"

// Stats counts what a pool did. The counters only grow; observability
// (metrics) exports them as counters per service and version.
type Stats struct {
	Invocations atomic.Uint64 // invocations that got an instance
	ColdStarts  atomic.Uint64 // instances created for a caller because none was idle
	Prewarmed   atomic.Uint64 // instances created ahead of traffic (deploy, min_instances)
	Discarded   atomic.Uint64 // instances thrown away after a failure
	Recycled    atomic.Uint64 // instances stopped after max requests or memory growth
	Expired     atomic.Uint64 // idle instances stopped by the keep-alive
	Evicted     atomic.Uint64 // instances stopped to give budget to another service
	Rejected    atomic.Uint64 // calls refused with ErrOverloaded
}

// Counters is a copy of Stats at one moment.
type Counters struct {
	Invocations, ColdStarts, Prewarmed, Discarded, Recycled, Expired, Evicted, Rejected uint64
}

// Load copies the counters.
func (s *Stats) Load() Counters {
	return Counters{
		Invocations: s.Invocations.Load(), ColdStarts: s.ColdStarts.Load(), Prewarmed: s.Prewarmed.Load(),
		Discarded: s.Discarded.Load(), Recycled: s.Recycled.Load(), Expired: s.Expired.Load(),
		Evicted: s.Evicted.Load(), Rejected: s.Rejected.Load(),
	}
}

// PoolSnapshot is a pool's gauges and counters at one moment.
type PoolSnapshot struct {
	Instances int // alive or being created
	Idle      int
	Busy      int
	Waiting   int // callers queued for an instance
	Min, Max  int
	Counters
}

// BudgetSnapshot is the node-wide budget at one moment.
type BudgetSnapshot struct {
	MaxInstances int   // 0: no limit
	MaxMemory    int64 // bytes; 0: no limit
	Instances    int   // units held
	Memory       int64 // bytes reserved
	Waiting      int   // callers waiting for a unit
	Pools        int   // pools registered
}
