package node

import (
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/dispatch"
)

// Scale configures the node's instance pools and their limits. The zero
// value is the default everywhere.
type Scale struct {
	// KeepAlive is how long an idle instance above a service's
	// min_instances lives (scale to zero by default). Default 60s; a
	// negative value keeps idle instances.
	KeepAlive time.Duration
	// MaxQueue bounds the callers waiting for an instance of one version
	// (503 with Retry-After beyond). Default max(256, 16×max_instances).
	MaxQueue int
	// RecycleAfter stops an instance after that many requests (0: never).
	RecycleAfter int
	// MaxInstances bounds the instances of all services together; under
	// pressure they are shared fairly between services. Default 1000.
	MaxInstances int
	// MaxMemoryMB bounds the memory all instances reserve together, each
	// reserving its service's limits.memory_mb. 0: no memory budget.
	MaxMemoryMB int
	// BodyTimeout bounds reading a request body, which happens before an
	// instance is taken, so a slow client never holds one. Default 30s.
	BodyTimeout time.Duration
	// MaxHeaderBytes and MaxHeaderCount bound request headers (431
	// beyond). Defaults 64 KiB and 100.
	MaxHeaderBytes int
	MaxHeaderCount int
}

// Scale defaults.
const (
	DefaultMaxInstances   = 1000
	DefaultBodyTimeout    = 30 * time.Second
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxHeaderCount = 100
)

func (s Scale) withDefaults() Scale {
	if s.KeepAlive == 0 {
		s.KeepAlive = dispatch.DefaultKeepAlive
	}
	if s.MaxInstances == 0 {
		s.MaxInstances = DefaultMaxInstances
	}
	if s.BodyTimeout == 0 {
		s.BodyTimeout = DefaultBodyTimeout
	}
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if s.MaxHeaderCount == 0 {
		s.MaxHeaderCount = DefaultMaxHeaderCount
	}
	return s
}

// Budget is the node-wide instance budget, for metrics.
func (n *Node) Budget() *dispatch.Budget { return n.budget }

// Pools returns the pool of every loaded service, by service name, for
// metrics and triggers (dispatch.Pool.Do runs any kind of invocation).
func (n *Node) Pools() map[string]*dispatch.Pool {
	s := n.snap.Load()
	out := make(map[string]*dispatch.Pool, len(s.Services))
	for name, svc := range s.Services {
		out[name] = svc.Pool
	}
	return out
}

func poolInfo(s dispatch.PoolSnapshot) *api.PoolInfo {
	return &api.PoolInfo{
		Instances: s.Instances, Idle: s.Idle, Busy: s.Busy, Waiting: s.Waiting, Min: s.Min, Max: s.Max,
		Invocations: s.Invocations, ColdStarts: s.ColdStarts, Prewarmed: s.Prewarmed, Discarded: s.Discarded,
		Recycled: s.Recycled, Expired: s.Expired, Evicted: s.Evicted, Rejected: s.Rejected,
	}
}

// keepAlive is a service's keep-alive: its manifest's, else the node's.
func keepAlive(ms int, node time.Duration) time.Duration {
	if ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return node
}
