package node

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
)

// The Go garbage collector's pacing is a property of the process, so it
// is set by the command that makes the process a node (`wisp serve`,
// `wisp dev`), not by a library: a test that starts nodes in-process
// keeps its own settings.
//
// A node's live heap is mostly long-lived: every warm JS instance is a
// goja runtime of ~100 KB that lives for its keep-alive, while a request
// leaves little garbage. A mark phase is what a request waits behind on
// a small machine: its idle workers take every processor with nothing
// else to run, and a goroutine stopped for its stack to be scanned can
// wait milliseconds to be resumed (docs/performance.md, "Density": the
// slowest first requests of 1,000 services were sent during marks). The
// share of time spent marking grows with the allocation rate and shrinks
// with GOGC, whatever the size of the live heap, so the node collects
// when the heap has grown to three times its live size instead of two:
// half as many mark phases, for at most 1.5 times the heap. (GOGC=400:
// fewer still, but the idle node of 1,000 services then held 141-156 MB
// instead of ~89 MB, and up to 428 MB right after deploying them; the
// density goal's budget is 500.) The soft memory limit is the backstop that
// makes collections more frequent again as memory runs out. The JS
// memory governor forces its own collections when an instance could be
// over its limit, whatever the pacing.
//
// A small live heap gets a floor under its headroom: GOGC 200 of a
// 33 MB heap (1,000 idle services) is a collection at ~99 MB, soon after
// their cold starts begin. After each collection the node raises GOGC
// so that the heap may grow at least MinGCHeadroom past its live size
// (GOGC 388 at 33 MB live), and lets it fall back to DefaultGCPercent
// once the live heap passes MinGCHeadroom/2. RATIONALE.md ("Why the node
// paces the garbage collector") has the measurements and the price.

// DefaultGCPercent is the node's GOGC unless the operator sets one.
const DefaultGCPercent = 200

// MinGCHeadroom is how far, at least, the heap may grow past its live
// size before the next collection, unless the operator sets GOGC.
const MinGCHeadroom = 128 << 20

// PaceGC sets the process's garbage collector for a node: GOGC to
// DefaultGCPercent and the soft memory limit (GOMEMLIMIT) to 80% of the
// machine's memory, each unless the operator set it in the environment.
// It logs what it set.
func PaceGC(getenv func(string) string, log *slog.Logger) {
	var attrs []any
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
		if pacer.Load() == nil {
			if p := startHeadroomPacer(DefaultGCPercent); !pacer.CompareAndSwap(nil, p) {
				p.stop()
			}
		}
		attrs = append(attrs, "gogc", DefaultGCPercent, "min_headroom_mb", MinGCHeadroom>>20)
	}
	if getenv("GOMEMLIMIT") == "" {
		if total := totalMemory(); total > 0 {
			limit := total / 10 * 8
			debug.SetMemoryLimit(limit)
			attrs = append(attrs, "gomemlimit_mb", strconv.FormatInt(limit>>20, 10))
		}
	}
	if len(attrs) > 0 {
		log.Debug("garbage collector paced for a node", attrs...)
	}
}

// pacer is the process's headroomPacer, once PaceGC started it.
var pacer atomic.Pointer[headroomPacer]

// gcPercentFor is the GOGC that lets a heap of live bytes grow by at least
// MinGCHeadroom, and never less than base.
func gcPercentFor(live uint64, base int) int {
	if live == 0 {
		return base
	}
	p := min(MinGCHeadroom*100/live, 10_000)
	return max(base, int(p))
}

// headroomPacer sets GOGC after each collection from the live heap it
// left (gcPercentFor).
type headroomPacer struct {
	base    int
	current atomic.Int64 // the GOGC it set last
	stopped atomic.Bool
	sample  []metrics.Sample
}

// gcSentinel is garbage made to be collected: its finalizer runs once a
// collection has finished, and makes the next one.
type gcSentinel struct{ p *headroomPacer }

func startHeadroomPacer(base int) *headroomPacer {
	p := &headroomPacer{base: base, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	p.current.Store(int64(base))
	p.adjust()
	p.arm()
	return p
}

func (p *headroomPacer) arm() {
	runtime.SetFinalizer(&gcSentinel{p: p}, func(s *gcSentinel) {
		if s.p.stopped.Load() {
			return
		}
		s.p.adjust()
		s.p.arm()
	})
}

// adjust runs on the finalizer goroutine, one call at a time.
func (p *headroomPacer) adjust() {
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	want := int64(gcPercentFor(p.sample[0].Value.Uint64(), p.base))
	// Within 5%: not worth the heap lock (and no flapping).
	cur := p.current.Load()
	if d := want - cur; d*20 > cur || -d*20 > cur {
		debug.SetGCPercent(int(want))
		p.current.Store(want)
	}
}

// stop ends the adjustments (tests; a node's pacer lives with its process).
func (p *headroomPacer) stop() { p.stopped.Store(true) }
