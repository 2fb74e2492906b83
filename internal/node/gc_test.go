package node

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

// gcPercent reads GOGC without changing it for long.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestPaceGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const none = int64(1<<63 - 1)
	tests := []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   func(int64) bool
	}{
		{name: "defaults", wantPercent: DefaultGCPercent, wantLimit: func(l int64) bool {
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
			PaceGC(func(k string) string { return tt.env[k] }, log)
			if got := gcPercent(); got != tt.wantPercent {
				t.Errorf("GOGC = %d, want %d", got, tt.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); !tt.wantLimit(got) {
				t.Errorf("memory limit = %d (machine: %d)", got, totalMemory())
			}
		})
	}
}
