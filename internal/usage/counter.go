package usage

import (
	"sync/atomic"
	"time"
)

// Totals is usage added up: over a day of one service on one node as
// stored, or over any set of those.
type Totals struct {
	Invocations uint64 `json:"invocations"`
	// WallNS is the time instances were held by invocations, in
	// nanoseconds: from the moment an invocation got its instance until
	// it gave it back (waiting for an instance is not counted).
	WallNS uint64 `json:"wall_ns"`
	// CPUNS is the CPU time of the threads running the guests, in
	// nanoseconds (see Counter.Add).
	CPUNS uint64 `json:"cpu_ns"`
	// MemoryMBNS is memory reserved (limits.memory_mb) times WallNS, in
	// MB·ns; GBSeconds converts it.
	MemoryMBNS uint64 `json:"memory_mb_ns"`
	// EgressBytes is what left the node for the service: response bodies
	// sent to HTTP clients and the bodies of its outbound requests.
	EgressBytes uint64 `json:"egress_bytes"`
}

// Add adds o to t.
func (t *Totals) Add(o Totals) {
	t.Invocations += o.Invocations
	t.WallNS += o.WallNS
	t.CPUNS += o.CPUNS
	t.MemoryMBNS += o.MemoryMBNS
	t.EgressBytes += o.EgressBytes
}

// sub is t - o, each field modulo 2^64: the growth of counters that only
// grow, even across a wrap.
func (t Totals) sub(o Totals) Totals {
	return Totals{
		Invocations: t.Invocations - o.Invocations, WallNS: t.WallNS - o.WallNS, CPUNS: t.CPUNS - o.CPUNS,
		MemoryMBNS: t.MemoryMBNS - o.MemoryMBNS, EgressBytes: t.EgressBytes - o.EgressBytes,
	}
}

// IsZero reports whether nothing was used.
func (t Totals) IsZero() bool { return t == Totals{} }

// GBSeconds is the memory use in GB-seconds (1 GB = 1024 MB, as Lambda
// bills it).
func (t Totals) GBSeconds() float64 { return float64(t.MemoryMBNS) / 1024 / 1e9 }

// Counter counts the usage of one loaded version of a service. Its
// methods are safe for concurrent use and do not allocate.
type Counter struct {
	service  string
	memoryMB uint64
	inv      atomic.Uint64
	wall     atomic.Uint64
	cpu      atomic.Uint64
	mem      atomic.Uint64
	egress   atomic.Uint64
	closed   atomic.Bool
	flushed  Totals // owned by the Meter's flush
}

// Service is the service counted.
func (c *Counter) Service() string { return c.service }

// Add counts one invocation that held an instance for wall and whose
// guest used cpu of CPU time. How cpu is measured is the caller's
// business (internal/observe: the thread CPU clock while the goroutine
// running the guest is locked to its thread); 0 means not measured.
func (c *Counter) Add(wall, cpu time.Duration) {
	c.inv.Add(1)
	c.wall.Add(uint64(wall))
	c.cpu.Add(uint64(cpu))
	c.mem.Add(c.memoryMB * uint64(wall))
}

// AddEgress counts n bytes sent out of the node for the service.
func (c *Counter) AddEgress(n int64) {
	if n > 0 {
		c.egress.Add(uint64(n))
	}
}

// Load reads the counter: what it counted since it was made.
func (c *Counter) Load() Totals {
	return Totals{Invocations: c.inv.Load(), WallNS: c.wall.Load(), CPUNS: c.cpu.Load(), MemoryMBNS: c.mem.Load(), EgressBytes: c.egress.Load()}
}

// Close says the version is unloaded: the meter stores what is left and
// forgets the counter.
func (c *Counter) Close() { c.closed.Store(true) }
