package js

//go:generate go run gen_slots.go

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The memory governor: a per-instance heap limit for goja, which has none.
//
// All of an instance's JS runs inside its own slot function (slots_gen.go),
// so every allocation the runtime samples for the Go heap profile carries
// a stack frame that names the instance. After each garbage collection
// the governor reads the heap profile and adds up the bytes still in use
// per slot: that is the instance's live heap, within the profile's
// sampling error (one sample per 512 KiB allocated, on average). An
// instance over its [limits] memory_mb is interrupted, its invocation
// fails with a clear error and a 5xx, and its runtime is replaced before
// its next use. The governor looks only when the live heap is at least
// the smallest limit of a registered instance, so a node whose services
// stay small pays nothing. The node's Go memory limit (GOMEMLIMIT, set
// here when the operator did not) makes collections, and so checks, more
// frequent as memory gets scarce. docs/security.md says what this does
// not cover.

// memSlot is an instance's identity in the heap profile.
type memSlot struct {
	id       int // 0 is shared by instances beyond numSlots-1: not attributed
	in       *instance
	limit    int64
	baseline int64 // bytes the profile attributed to the slot when it was assigned
	poison   atomic.Bool
	running  atomic.Int32
}

// run runs f (which runs JS) inside the slot's frame.
func (s *memSlot) run(f func()) {
	s.running.Add(1)
	governor.active.Add(1)
	governor.kick()
	defer func() {
		s.running.Add(-1)
		governor.active.Add(-1)
	}()
	slotFuncs[s.id](f)
}

func (s *memSlot) poisoned() bool { return s.poison.Load() }

// reset clears the poison once the instance has a new runtime.
func (s *memSlot) reset() {
	s.poison.Store(false)
	governor.mu.Lock()
	s.baseline = governor.inuse[s.id]
	governor.mu.Unlock()
}

type memGovernor struct {
	mu      sync.Mutex
	slots   [numSlots]*memSlot
	inuse   [numSlots]int64 // per slot, from the last profile read
	pcSlot  map[uintptr]int // stack PC -> slot id (-1: not a slot frame)
	entries map[uintptr]int // slot function entry PC -> slot id
	active  atomic.Int64    // invocations running JS
	wake    chan struct{}
	once    sync.Once

	// Counters, for tests and docs/performance.md.
	scans, kills atomic.Int64
}

var governor = &memGovernor{wake: make(chan struct{}, 1)}

func (g *memGovernor) start() {
	g.once.Do(func() {
		g.entries = make(map[uintptr]int, numSlots)
		for i, f := range slotFuncs {
			g.entries[funcEntry(f)] = i
		}
		g.pcSlot = make(map[uintptr]int)
		setDefaultMemoryLimit()
		go g.watch()
	})
}

// register gives an instance a slot of its own when one is free.
func (g *memGovernor) register(in *instance) *memSlot {
	g.start()
	s := &memSlot{in: in, limit: in.mod.limits.memoryBytes()}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 1; i < numSlots; i++ {
		if g.slots[i] == nil {
			g.slots[i] = s
			s.id = i
			s.baseline = g.inuse[i]
			return s
		}
	}
	return s // slot 0: shared, not governed individually
}

func (g *memGovernor) unregister(s *memSlot) {
	if s == nil || s.id == 0 {
		return
	}
	g.mu.Lock()
	if g.slots[s.id] == s {
		g.slots[s.id] = nil
	}
	g.mu.Unlock()
}

func (g *memGovernor) kick() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

var gcMetrics = []metrics.Sample{
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
}

// watch polls the GC while JS runs and checks the profile after each
// collection.
func (g *memGovernor) watch() {
	samples := make([]metrics.Sample, len(gcMetrics))
	copy(samples, gcMetrics)
	var lastCycle uint64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if g.active.Load() == 0 {
			<-g.wake
			continue
		}
		<-tick.C
		metrics.Read(samples)
		cycle, live := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		if cycle == lastCycle {
			continue
		}
		lastCycle = cycle
		if int64(live) < g.smallestLimit() {
			continue
		}
		g.scan()
	}
}

func (g *memGovernor) smallestLimit() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	min := int64(-1)
	for _, s := range g.slots {
		if s != nil && (min < 0 || s.limit < min) {
			min = s.limit
		}
	}
	if min < 0 {
		return 1 << 62
	}
	return min
}

var profileBuf []runtime.MemProfileRecord

// scan reads the heap profile, attributes live bytes to slots and stops
// the instances over their limit.
func (g *memGovernor) scan() {
	g.scans.Add(1)
	n, _ := runtime.MemProfile(nil, true)
	if cap(profileBuf) < n+64 {
		profileBuf = make([]runtime.MemProfileRecord, n+64)
	}
	n, ok := runtime.MemProfile(profileBuf[:cap(profileBuf)], true)
	if !ok {
		return
	}
	var inuse [numSlots]int64
	for i := range profileBuf[:n] {
		r := &profileBuf[i]
		b := r.InUseBytes()
		if b <= 0 {
			continue
		}
		if id := g.slotOf(r.Stack()); id >= 0 {
			inuse[id] += b
		}
	}
	g.mu.Lock()
	g.inuse = inuse
	var over []*memSlot
	for id, s := range g.slots {
		if s != nil && inuse[id]-s.baseline > s.limit && !s.poison.Load() {
			over = append(over, s)
		}
	}
	g.mu.Unlock()
	for _, s := range over {
		g.kills.Add(1)
		s.poison.Store(true)
		if s.running.Load() > 0 {
			if vm := s.in.vmForInterrupt(); vm != nil {
				vm.Interrupt(errMemory)
			}
		} else {
			go s.in.dropRuntime()
		}
	}
}

// slotOf finds the slot frame in a stack, or -1.
func (g *memGovernor) slotOf(stack []uintptr) int {
	for _, pc := range stack {
		id, ok := g.pcSlot[pc]
		if !ok {
			id = -1
			if f := runtime.FuncForPC(pc - 1); f != nil {
				if sid, ok := g.entries[f.Entry()]; ok {
					id = sid
				}
			}
			g.pcSlot[pc] = id
		}
		if id >= 0 {
			return id
		}
	}
	return -1
}

// setDefaultMemoryLimit gives the process a soft memory limit (GOMEMLIMIT)
// of 80% of the machine's memory when the operator set none, so that the
// collector, and with it the governor, runs more often as memory runs out.
func setDefaultMemoryLimit() {
	if debug.SetMemoryLimit(-1) != 1<<63-1 {
		return
	}
	if total := totalMemory(); total > 0 {
		debug.SetMemoryLimit(total / 10 * 8)
	}
}
