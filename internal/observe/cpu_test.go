package observe

import (
	"testing"
	"time"
)

// TestCPUSampling: one invocation in CPUSample reads the thread clock
// (the first included); the others' CPU is their running time at the
// share the measured ones used, and their spans say it is estimated.
func TestCPUSampling(t *testing.T) {
	if !CPUMeasured {
		t.Skip("no thread CPU clock on this platform")
	}
	if _, err := New(Config{CPUSample: -1}); err == nil {
		t.Fatal("a negative CPU sample was accepted")
	}
	o, err := New(Config{CPUSample: 4})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Service("svc", "v1", 128)
	var measured []int
	for i := range 8 {
		_, inv := s.Begin(t.Context(), HTTP, "GET", "r")
		inv.Start(nil, false)
		for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
			// busy: CPU share close to 1
		}
		inv.Stop(nil)
		inv.End()
		if inv.measured {
			measured = append(measured, i)
		}
		if inv.cpu <= 0 || inv.cpu > inv.wall {
			t.Fatalf("invocation %d: cpu %v of wall %v", i, inv.cpu, inv.wall)
		}
		estimated := false
		for _, a := range inv.span.Attributes() {
			if a.Key == "wisp.cpu_estimated" {
				estimated = a.Value.AsBool()
			}
		}
		if estimated == inv.measured {
			t.Fatalf("invocation %d: measured %v, span says estimated %v", i, inv.measured, estimated)
		}
	}
	if len(measured) != 2 || measured[0] != 0 || measured[1] != 4 {
		t.Fatalf("measured invocations %v, want [0 4]", measured)
	}
	// A share learned from idle invocations makes idle estimates.
	s.cpuShare.Store(0)
	for range 3 {
		s.learnCPU(0, time.Millisecond)
	}
	if got := s.estimateCPU(time.Second); got != 0 {
		t.Fatalf("estimate after idle samples: %v", got)
	}
	s.learnCPU(time.Millisecond, time.Millisecond)
	if got := s.estimateCPU(time.Second); got != 250*time.Millisecond {
		t.Fatalf("estimate after one busy sample of four: %v, want 250ms", got)
	}
}
