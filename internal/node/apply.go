package node

import (
	"cmp"
	"context"
	"fmt"
	goruntime "runtime"
	"sort"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/registry"
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
)

// instantiateTimeout bounds a worker's top-level code when an instance is
// created to check or prewarm a version.
const instantiateTimeout = 5 * time.Second

// apply brings one registry change into effect on this node. live is
// false during start-up replay, when versions are compiled but not
// prewarmed (a thousand idle services must not cost a thousand instances).
func (n *Node) apply(ctx context.Context, ch registry.Change, live bool) {
	defer n.markApplied(ch.Revision)
	if ch.Err != nil {
		n.log.Error("bad service record in registry", "service", ch.Name, "error", ch.Err)
		return
	}
	n.mu.Lock()
	cur := n.services[ch.Name]
	n.mu.Unlock()
	if ch.Service == nil {
		if cur != nil {
			n.swap(ch.Name, nil)
			n.log.Info("service removed", "service", ch.Name)
		}
		return
	}
	if cur != nil && cur.Version == ch.Service.Active && cur.SecretsRev >= ch.Service.SecretsRev {
		return
	}
	svc := n.takePreloaded(ch.Name, ch.Service.Active)
	if svc != nil && svc.SecretsRev < ch.Service.SecretsRev {
		svc.Pool.Close() // built before the latest secret change
		svc = nil
	}
	var err error
	if svc == nil {
		svc, err = n.loadActive(ctx, ch.Service, live)
	}
	if err != nil {
		keep := "none"
		if cur != nil {
			keep = cur.Version
		}
		n.log.Error("cannot load active version; keeping the one loaded", "service", ch.Name, "version", ch.Service.Active, "keeping", keep, "error", err)
		return
	}
	if cur != nil && live {
		n.warmLike(ctx, svc, cur)
	}
	n.swap(ch.Name, svc)
	n.log.Info("service active", "service", ch.Name, "version", svc.Version)
}

// warmLike prewarms a new version with as many instances as the version
// it replaces has alive, so a deploy under load causes no cold start.
func (n *Node) warmLike(ctx context.Context, next, cur *dispatch.Service) {
	total, _, _ := cur.Pool.Counts()
	pctx, cancel := context.WithTimeout(ctx, instantiateTimeout)
	defer cancel()
	if err := next.Pool.Prewarm(pctx, total); err != nil {
		n.log.Warn("cannot prewarm the new version like the old one", "service", next.Name, "version", next.Version, "instances", total, "error", err)
	}
}

// replayParallelism bounds the versions loaded at once at start-up: the
// work is fetching from JetStream and compiling.
var replayParallelism = max(4, 2*goruntime.GOMAXPROCS(0))

// applyAll applies the changes of the start-up replay: versions are loaded
// in parallel (not prewarmed beyond min_instances) and the route table is
// published once.
func (n *Node) applyAll(ctx context.Context, changes []registry.Change) {
	last := map[string]registry.Change{}
	var rev uint64
	for _, ch := range changes {
		rev = max(rev, ch.Revision)
		if ch.Err != nil {
			n.log.Error("bad service record in registry", "service", ch.Name, "error", ch.Err)
			continue
		}
		last[ch.Name] = ch
	}
	loaded := make(chan *dispatch.Service, len(last))
	sem := make(chan struct{}, replayParallelism)
	var wg sync.WaitGroup
	for _, ch := range last {
		if ch.Service == nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			svc, err := n.loadActive(ctx, ch.Service, false)
			if err != nil {
				n.log.Error("cannot load active version", "service", ch.Name, "version", ch.Service.Active, "error", err)
				return
			}
			loaded <- svc
		})
	}
	wg.Wait()
	close(loaded)
	n.mu.Lock()
	var old, now []*dispatch.Service
	for svc := range loaded {
		if cur := n.services[svc.Name]; cur != nil {
			old = append(old, cur)
		}
		n.services[svc.Name] = svc
		now = append(now, svc)
	}
	n.publishLocked()
	n.mu.Unlock()
	for _, s := range now {
		n.triggersChanged(s.Name, s)
	}
	for _, s := range old {
		s.Pool.Close()
	}
	n.markApplied(rev)
}

func (n *Node) loadActive(ctx context.Context, s *registry.Service, prewarm bool) (*dispatch.Service, error) {
	v, err := n.reg.Version(ctx, s.Name, s.Active)
	if err != nil {
		return nil, err
	}
	code, err := n.reg.Code(ctx, v)
	if err != nil {
		return nil, err
	}
	svc, err := n.load(ctx, v, code, prewarm)
	if err != nil {
		return nil, err
	}
	svc.SecretsRev = s.SecretsRev // its secrets were read after this record
	return svc, nil
}

// load compiles a version and makes its pool; with prewarm it also starts
// one instance, which proves the code evaluates.
func (n *Node) load(ctx context.Context, v *registry.Version, code []byte, prewarm bool) (*dispatch.Service, error) {
	eng, ok := n.engines[v.Kind]
	if !ok {
		return nil, fmt.Errorf("no runtime for %q services on this node", v.Kind)
	}
	env, err := n.bindings(ctx, v.Manifest)
	if err != nil {
		return nil, err
	}
	l := v.Manifest.Limits
	obs := n.obs.Service(v.Service, v.ID, l.MemoryMB)
	env = obs.WrapEnv(env, bindingTargets(v.Manifest))
	mod, err := eng.Load(ctx, runtime.Spec{Service: v.Service, Version: v.ID, Manifest: v.Manifest, Code: code, Env: env, Logs: n.sink})
	if err != nil {
		obs.Close()
		return nil, err
	}
	sc := n.cfg.Scale
	memory := int64(l.MemoryMB) << 20
	pool := dispatch.NewPool(mod, dispatch.PoolConfig{
		Min: l.MinInstances, Max: l.MaxInstances,
		// Waiting costs a goroutine and a read body, not an instance: let
		// bursts queue (bounded by each request's deadline) rather than fail.
		MaxQueue:  cmp.Or(sc.MaxQueue, max(256, 16*l.MaxInstances)),
		KeepAlive: keepAlive(l.KeepAliveMS, sc.KeepAlive), MaxRequests: sc.RecycleAfter,
		// Recycle an instance that grew to 3/4 of its cap before it traps.
		MaxMemory: memory / 4 * 3, Memory: memory, Budget: n.budget,
		Observe: obs,
	}, n.log.With("service", v.Service, "version", v.ID))
	if prewarm || l.MinInstances > 0 {
		pctx, cancel := context.WithTimeout(ctx, instantiateTimeout)
		err := pool.Prewarm(pctx, 1)
		cancel()
		if err != nil {
			pool.Close() // closes mod once drained
			return nil, err
		}
	}
	return &dispatch.Service{Name: v.Service, Version: v.ID, Manifest: v.Manifest, Pool: pool}, nil
}

func preloadKey(svc, version string) string { return svc + "@" + version }

func (n *Node) stashPreloaded(s *dispatch.Service) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.preloaded[preloadKey(s.Name, s.Version)]; old != nil {
		old.Pool.Close()
	}
	n.preloaded[preloadKey(s.Name, s.Version)] = s
}

func (n *Node) takePreloaded(svc, version string) *dispatch.Service {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.preloaded[preloadKey(svc, version)]
	delete(n.preloaded, preloadKey(svc, version))
	return s
}

func (n *Node) dropPreloaded(svc, version string) {
	if s := n.takePreloaded(svc, version); s != nil {
		s.Pool.Close()
	}
}

// swap replaces (or with nil removes) a service's loaded version,
// publishes a new snapshot, then retires the old version's pool: requests
// in flight on it finish, callers still waiting for one of its instances
// move to the new version, new ones already go to the new version.
func (n *Node) swap(name string, next *dispatch.Service) {
	n.mu.Lock()
	old := n.services[name]
	if next == nil {
		delete(n.services, name)
	} else {
		n.services[name] = next
	}
	n.publishLocked()
	n.mu.Unlock()
	n.triggersChanged(name, next)
	if old != nil {
		if next != nil {
			old.Pool.Retire(next.Pool)
		} else {
			old.Pool.Close()
		}
	}
}

// publishLocked builds the route table from the loaded services and makes
// it the gateway's. The registry's route claims keep routes unique; if two
// services ever hold the same route anyway, the first by name keeps it.
func (n *Node) publishLocked() {
	names := make([]string, 0, len(n.services))
	for name := range n.services {
		names = append(names, name)
	}
	sort.Strings(names)
	services := make(map[string]*dispatch.Service, len(n.services))
	var entries []route.Entry[*dispatch.Service]
	seen := map[string]string{}
	for _, name := range names {
		s := n.services[name]
		services[name] = s
		for _, r := range s.Manifest.Routes {
			p, err := route.Parse(r)
			if err != nil {
				continue // validated at deploy; cannot happen
			}
			if other, dup := seen[p.Key()]; dup {
				n.log.Error("route held by two services; keeping the first", "route", p.Key(), "kept", other, "dropped", name)
				continue
			}
			seen[p.Key()] = name
			entries = append(entries, route.Entry[*dispatch.Service]{Pattern: p, Owner: name, Value: s})
		}
	}
	table, err := route.Build(entries)
	if err != nil {
		n.log.Error("build route table", "error", err)
		return
	}
	n.snap.Store(&gateway.Snapshot{Routes: table, Services: services})
}

func (n *Node) markApplied(rev uint64) {
	n.mu.Lock()
	if rev > n.applied {
		n.applied = rev
	}
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

// waitFor blocks until cond (checked under n.mu) holds or ctx ends.
func (n *Node) waitFor(ctx context.Context, cond func() bool) error {
	for {
		n.mu.Lock()
		ok := cond()
		ch := n.changed
		n.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the registry change to reach this node: %w", ctx.Err())
		case <-ch:
		}
	}
}

// waitApplied blocks until this node has applied registry revision rev.
func (n *Node) waitApplied(ctx context.Context, rev uint64) error {
	return n.waitFor(ctx, func() bool { return n.applied >= rev })
}
