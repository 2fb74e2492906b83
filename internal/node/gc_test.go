package node

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads GOGC without changing it for long.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// stopPacer stops the pacer a test's PaceGC started.
func stopPacer() {
	if p := pacer.Swap(nil); p != nil {
		p.stop()
	}
}

func TestPaceGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer stopPacer()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const none = int64(1<<63 - 1)
	tests := []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   func(int64) bool
	}{
		{name: "defaults", wantPercent: -1, wantLimit: func(l int64) bool {
			if runtime.GOOS != "linux" {
				return l == none
			}
			return l != none && l == totalMemory()/10*8
		}},
		{name: "the operator's settings are kept", env: map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}, wantPercent: 150,
			wantLimit: func(l int64) bool { return l == 1<<30 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What the runtime would have read from the environment.
			debug.SetGCPercent(150)
			debug.SetMemoryLimit(none)
			if tt.env["GOMEMLIMIT"] != "" {
				debug.SetMemoryLimit(1 << 30)
			}
			stopPacer()
			PaceGC(func(k string) string { return tt.env[k] }, log)
			if tt.wantPercent < 0 { // the default, with the headroom floor
				p := pacer.Load()
				if p == nil {
					t.Fatal("no headroom pacer started")
				}
				if got := gcPercent(); got < DefaultGCPercent || int64(got) != p.current.Load() {
					t.Errorf("GOGC = %d, want the pacer's %d (at least %d)", got, p.current.Load(), DefaultGCPercent)
				}
			} else if got := gcPercent(); got != tt.wantPercent {
				t.Errorf("GOGC = %d, want %d", got, tt.wantPercent)
			}
			if tt.wantPercent >= 0 && pacer.Load() != nil {
				t.Error("a pacer started although the operator set GOGC")
			}
			if got := debug.SetMemoryLimit(-1); !tt.wantLimit(got) {
				t.Errorf("memory limit = %d (machine: %d)", got, totalMemory())
			}
		})
	}
}

func TestGCPercentFor(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, 200}, {1 << 10, 10_000}, {MinGCHeadroom / 4, 400}, {MinGCHeadroom / 2, 200},
		{MinGCHeadroom, 200}, {8 << 30, 200},
	} {
		if got := gcPercentFor(tt.live, 200); got != tt.want {
			t.Errorf("gcPercentFor(%d MB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}

// TestHeadroomPacer: after each collection GOGC follows the live heap: a
// large one gets the base, a small one the headroom floor.
func TestHeadroomPacer(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p := startHeadroomPacer(DefaultGCPercent)
	defer p.stop()
	waitPercent := func(want func(int64) bool, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !want(p.current.Load()) {
			if time.Now().After(deadline) {
				t.Fatalf("GOGC %d after collections, want %s", p.current.Load(), what)
			}
			runtime.GC()
			time.Sleep(time.Millisecond) // the finalizer goroutine's turn
		}
	}
	// The test binary's live heap is a few MB: the floor applies.
	waitPercent(func(v int64) bool { return v > 1000 }, "the headroom floor (> 1000)")
	// 96 MB live (never written: no resident memory).
	big := make([]byte, 96<<20)
	waitPercent(func(v int64) bool { return v == DefaultGCPercent }, "the base")
	if got := gcPercent(); got != DefaultGCPercent {
		t.Fatalf("GOGC = %d, want %d", got, DefaultGCPercent)
	}
	runtime.KeepAlive(big)
	waitPercent(func(v int64) bool { return v > 1000 }, "the floor again")
}
