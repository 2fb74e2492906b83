package js

//go:generate go run gen_slots.go

import (
	"math"
	"runtime"
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
// stay small pays nothing; between collections it forces one only when
// an instance could have gone past its limit. The process's Go memory
// limit (GOMEMLIMIT, set by the node: node.PaceGC) makes collections,
// and so checks, more frequent as memory gets scarce. docs/security.md
// says what this does not cover.

// memSlot is an instance's identity in the heap profile.
type memSlot struct {
	id      int // 0 is shared by instances beyond numSlots-1: not attributed
	in      *instance
	limit   int64
	poison  atomic.Bool
	running atomic.Int32
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

// reset gives an instance that got a new runtime a new slot: the old
// runtime's memory, garbage now, stays attributed to the old slot until
// it is collected.
func (s *memSlot) reset() {
	governor.unregister(s)
	governor.assign(s)
	s.poison.Store(false)
}

type memGovernor struct {
	scanMu  sync.Mutex                 // one scan at a time (records, pcSlot)
	records []runtime.MemProfileRecord // scan's buffer
	mu      sync.Mutex
	slots   [numSlots]*memSlot
	// draining slots were released but the profile still shows their
	// memory; they are reused once it has been collected.
	draining [numSlots]bool
	inuse    [numSlots]int64 // per slot, from the last profile read
	pcSlot   map[uintptr]int // stack PC -> slot id (-1: not a slot frame)
	entries  map[uintptr]int // slot function entry PC -> slot id
	active   atomic.Int64    // invocations running JS
	wake     chan struct{}
	once     sync.Once

	// Counters, for tests and docs/performance.md.
	scans, kills, forced atomic.Int64
}

var governor = &memGovernor{wake: make(chan struct{}, 1)}

func (g *memGovernor) start() {
	g.once.Do(func() {
		g.entries = make(map[uintptr]int, numSlots)
		for i, f := range slotFuncs {
			g.entries[funcEntry(f)] = i
		}
		g.pcSlot = make(map[uintptr]int)
		go g.watch()
	})
}

// register gives an instance a slot of its own when one is free.
func (g *memGovernor) register(in *instance) *memSlot {
	g.start()
	s := &memSlot{in: in, limit: in.mod.limits.memoryBytes()}
	g.assign(s)
	return s
}

// assign picks a free slot for s, or the shared slot 0 (not governed
// individually) when none is.
func (g *memGovernor) assign(s *memSlot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.id = 0
	for i := 1; i < numSlots; i++ {
		if g.slots[i] == nil && !g.draining[i] {
			g.slots[i] = s
			s.id = i
			return
		}
	}
}

func (g *memGovernor) unregister(s *memSlot) {
	if s == nil || s.id == 0 {
		return
	}
	g.mu.Lock()
	if g.slots[s.id] == s {
		g.slots[s.id] = nil
		g.draining[s.id] = g.inuse[s.id] > drainedBytes
	}
	g.mu.Unlock()
}

// drainedBytes: a released slot whose profile shows less is reusable.
const drainedBytes = 1 << 20

func (g *memGovernor) kick() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

var gcMetrics = []metrics.Sample{
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/allocs:bytes"},
}

// watch runs while JS runs. It checks the profile after every collection
// (when the live heap is at least a quarter of the smallest limit), and between
// collections it makes one when an instance could have gone past its
// limit: no instance holds more than it held at the last check plus
// everything the process allocated since, so a collection is forced
// once the bytes allocated since the last one exceed the smallest
// headroom (limit minus what the instance held; the live heap when the
// profile was not read), and at least half the smallest limit, so that
// an instance sitting just under its limit cannot make every allocation
// a collection. A runaway is thus caught within half its limit past it,
// and the many small instances of a dense node (1,000 warm runtimes
// exceed a 128 MB limit together) cause no collection of their own: on
// two cores a mark phase is what their requests would wait behind.
func (g *memGovernor) watch() {
	samples := make([]metrics.Sample, len(gcMetrics))
	copy(samples, gcMetrics)
	var lastCycle uint64
	var allocsAtCycle uint64
	headroom := int64(-1) // unknown until the first cycle is seen
	wait := time.Millisecond
	for {
		if g.active.Load() == 0 {
			<-g.wake
			continue
		}
		time.Sleep(wait)
		metrics.Read(samples)
		cycle, live, objects := samples[0].Value.Uint64(), int64(samples[1].Value.Uint64()), int64(samples[2].Value.Uint64())
		allocs := samples[3].Value.Uint64()
		limit := g.smallestLimit()
		// Far below every limit, look less often.
		wait = time.Millisecond
		if objects < limit/4 {
			wait = 5 * time.Millisecond
		}
		if cycle != lastCycle || headroom < 0 {
			lastCycle, allocsAtCycle = cycle, allocs
			// Below a quarter of the smallest limit the live heap itself
			// bounds what any instance holds closely enough; above it,
			// the profile says what each instance holds.
			scanned := false
			if live >= limit/4 || g.anyDraining() {
				g.scan()
				scanned = true
			}
			headroom = g.headroom(live, scanned)
			continue
		}
		if grown := int64(allocs - allocsAtCycle); grown > max(min(headroom, limit), limit/2) {
			g.forced.Add(1)
			runtime.GC()
			metrics.Read(samples)
			lastCycle, allocsAtCycle = samples[0].Value.Uint64(), samples[3].Value.Uint64()
			g.scan()
			headroom = g.headroom(int64(samples[1].Value.Uint64()), true)
		}
	}
}

// headroom is how much more any governed instance may hold before it is
// over its limit: its limit minus what the last profile read attributed
// to it when scanned, else minus the whole live heap (which bounds it).
func (g *memGovernor) headroom(live int64, scanned bool) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	room := int64(1 << 62)
	for id, s := range g.slots {
		if s == nil {
			continue
		}
		held := live
		if scanned {
			held = g.inuse[id]
		}
		room = min(room, s.limit-held)
	}
	return max(room, 0)
}

func (g *memGovernor) anyDraining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range g.draining {
		if d {
			return true
		}
	}
	return false
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

// noteBufferAlloc counts binary buffers a runtime allocates: they are the
// fastest way to grow a heap, faster than the watcher polls. Past half its
// limit since the last check, the allocating goroutine itself collects
// and checks, which also slows the allocator down.
func (in *instance) noteBufferAlloc(n int64) {
	in.bufAlloc += n
	if in.bufAlloc < in.mod.limits.memoryBytes()/2 {
		return
	}
	in.bufAlloc = 0
	governor.forced.Add(1)
	runtime.GC()
	governor.scan()
}

// scan reads the heap profile, attributes live bytes to slots and stops
// the instances over their limit.
func (g *memGovernor) scan() {
	g.scanMu.Lock()
	defer g.scanMu.Unlock()
	g.scans.Add(1)
	n, _ := runtime.MemProfile(nil, true)
	if cap(g.records) < n+64 {
		g.records = make([]runtime.MemProfileRecord, n+64)
	}
	n, ok := runtime.MemProfile(g.records[:cap(g.records)], true)
	if !ok {
		return
	}
	var inuse [numSlots]int64
	for i := range g.records[:n] {
		r := &g.records[i]
		b := scaledInUse(r)
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
		if g.draining[id] && inuse[id] <= drainedBytes {
			g.draining[id] = false
		}
		if s != nil && inuse[id] > s.limit && !s.poison.Load() {
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

// scaledInUse estimates the bytes a profile record stands for: the
// profile holds samples, one per MemProfileRate bytes allocated on
// average, so small objects are scaled up as pprof does
// (runtime/pprof's scaleHeapSample).
func scaledInUse(r *runtime.MemProfileRecord) int64 {
	objects, bytes := r.InUseObjects(), r.InUseBytes()
	if objects <= 0 || bytes <= 0 {
		return 0
	}
	rate := runtime.MemProfileRate
	if rate <= 1 {
		return bytes
	}
	avg := float64(r.AllocBytes) / float64(r.AllocObjects)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return int64(float64(bytes) * scale)
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
