package node

import (
	"log/slog"
	"runtime/debug"
	"strconv"
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
// A floor under the headroom for small heaps (GOGC raised after each
// collection so that the heap could grow 128 MB past its live size) was
// tried and taken out: in interleaved runs it did no better than 200 and
// held 60 MB more at idle (RATIONALE.md).

// DefaultGCPercent is the node's GOGC unless the operator sets one.
const DefaultGCPercent = 200

// PaceGC sets the process's garbage collector for a node: GOGC to
// DefaultGCPercent and the soft memory limit (GOMEMLIMIT) to 80% of the
// machine's memory, each unless the operator set it in the environment.
// It logs what it set.
func PaceGC(getenv func(string) string, log *slog.Logger) {
	var attrs []any
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
		attrs = append(attrs, "gogc", DefaultGCPercent)
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
