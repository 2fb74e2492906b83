package js

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wruntime "github.com/wisp-run/wisp/internal/runtime"
)

// heapWatch records the largest heap (live and garbage) seen while it
// runs.
func heapWatch() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func heapNow() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func isMemoryError(err error) bool {
	re, ok := err.(*wruntime.Error)
	return ok && re.Kind == wruntime.Crash && strings.Contains(re.Message, "memory limit of 64 MB")
}

// A worker that allocates without bound is stopped near its limit, with
// a clear error, while a neighbour keeps serving; its next request gets
// a new runtime (and is stopped again).
func TestMemoryLimitStopsARunawayWorker(t *testing.T) {
	tests := []struct {
		name, src string
	}{
		{"array of strings", `export default { fetch() { const a = []; for (;;) a.push('x'.repeat(1000) + a.length); } }`},
		{"objects in a map", `export default { fetch() { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i, s: String(i).repeat(50) }); } }`},
		{"buffers across awaits", `export default { async fetch() { const a = []; for (;;) { a.push(new Uint8Array(64 * 1024)); if (a.length % 64 === 0) await null; } } }`},
		{"growing global across requests", `const keep = []; export default { fetch() { for (let i = 0; i < 2000; i++) keep.push('y'.repeat(1000) + i); return new Response(String(keep.length)); } }`},
	}
	neighbour := load(t, `export default { fetch() { const a = []; for (let i = 0; i < 1000; i++) a.push({ i }); return new Response(String(a.length)); } }`, nil, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled && !strings.Contains(tc.name, "buffers") {
				t.Skip("too slow under the race detector; .ci/run runs it without -race")
			}
			before := heapNow()
			inst := loadWith(t, tc.src, limitsConfig{memoryMB: 64, timeoutMS: 30_000}, nil)
			stopNeighbour := make(chan struct{})
			var served atomic.Int64
			var nerr atomic.Value
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stopNeighbour:
						return
					default:
					}
					rec, err := do(t, neighbour, "GET", "http://n/", "", 5*time.Second)
					if err != nil || rec.Body.String() != "1000" {
						nerr.Store(err)
						return
					}
					served.Add(1)
				}
			}()
			stop := heapWatch()
			start := time.Now()
			var err error
			for i := 0; i < 1000 && err == nil; i++ {
				_, err = do(t, inst, "GET", "http://x/", "", 30*time.Second)
			}
			peak := stop()
			close(stopNeighbour)
			wg.Wait()
			if !isMemoryError(err) {
				t.Fatalf("err = %v, want a Crash naming the memory limit", err)
			}
			if e := nerr.Load(); e != nil {
				t.Fatalf("the neighbour failed: %v", e)
			}
			grown := int64(peak) - int64(before)
			t.Logf("stopped after %v; heap grew by at most %d MB over %d MB; the neighbour served %d requests meanwhile",
				time.Since(start).Round(time.Millisecond), grown>>20, before>>20, served.Load())
			if grown > 320<<20 {
				t.Errorf("the heap grew by %d MB before a 64 MB worker was stopped", grown>>20)
			}
			// A new runtime serves the next request: a runaway is stopped again.
			_, err = do(t, inst, "GET", "http://x/", "", 30*time.Second)
			if strings.Contains(tc.name, "across requests") {
				if err != nil {
					t.Fatalf("after the reset: %v", err)
				}
				return
			}
			if !isMemoryError(err) {
				t.Fatalf("second run: %v, want the memory limit again", err)
			}
		})
	}
}

// An idle instance that went over its limit gives its memory back and
// boots afresh for its next request.
func TestGovernorDropsAnIdleRuntimeOverItsLimit(t *testing.T) {
	inst := loadWith(t, `const keep = []; export default { fetch(r) { if (new URL(r.url).pathname === '/grow') for (let i = 0; i < 90000; i++) keep.push('z'.repeat(1000)); return new Response(String(keep.length)); } }`,
		limitsConfig{memoryMB: 64, timeoutMS: 30_000}, nil)
	// The governor watches while some JS runs: keep another worker busy
	// until the check is done.
	busy := load(t, `export default { async fetch() { await new Promise((r) => setTimeout(r, 100)); return new Response('done') } }`, nil, nil)
	stopBusy := make(chan struct{})
	busyDone := make(chan struct{})
	go func() {
		defer close(busyDone)
		for {
			select {
			case <-stopBusy:
				return
			default:
			}
			_, _ = do(t, busy, "GET", "http://b/", "", 5*time.Second)
		}
	}()
	defer func() { close(stopBusy); <-busyDone }()
	_, _ = do(t, inst, "GET", "http://x/grow", "", 30*time.Second)
	in := inst.(*instance)
	deadline := time.Now().Add(20 * time.Second)
	for !in.slot.poisoned() && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if !in.slot.poisoned() {
		t.Fatal("an instance holding 90 MB with a 64 MB limit was not flagged")
	}
	rec, err := do(t, inst, "GET", "http://x/", "", 5*time.Second)
	if err != nil || rec.Body.String() != "0" {
		t.Fatalf("after the reset: %v %q, want a fresh runtime (0)", err, rec.Body.String())
	}
	_ = context.Background
}

// A worker that loops forever is stopped at its deadline while another
// keeps serving.
func TestLoopingWorkerDoesNotStopANeighbour(t *testing.T) {
	looper := loadWith(t, `export default { fetch() { for (;;) {} } }`, limitsConfig{timeoutMS: 500}, nil)
	neighbour := load(t, `export default { fetch() { return new Response('ok') } }`, nil, nil)
	done := make(chan error, 1)
	go func() {
		_, err := do(t, looper, "GET", "http://l/", "", 500*time.Millisecond)
		done <- err
	}()
	served := 0
	for {
		select {
		case err := <-done:
			re, ok := err.(*wruntime.Error)
			if !ok || re.Kind != wruntime.Timeout {
				t.Fatalf("looper: %v, want a Timeout", err)
			}
			if served < 10 {
				t.Fatalf("the neighbour served only %d requests while the looper ran", served)
			}
			t.Logf("the neighbour served %d requests while the looper ran for 500ms", served)
			return
		default:
		}
		rec, err := do(t, neighbour, "GET", "http://n/", "", time.Second)
		if err != nil || rec.Body.String() != "ok" {
			t.Fatalf("neighbour: %v", err)
		}
		served++
	}
}
