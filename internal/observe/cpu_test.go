package observe

import (
	"slices"
	"testing"
	"time"
)

// TestCPUSampling: at most one invocation per CPUSampleEvery reads the
// thread clock (the first included); the others' CPU is their running
// time at the share the measured ones used, and their spans say it is
// estimated. A negative interval measures every invocation.
func TestCPUSampling(t *testing.T) {
	if !CPUMeasured {
		t.Skip("no thread CPU clock on this platform")
	}
	o, err := New(Config{CPUSampleEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Service("svc", "v1", 128)
	if got := sampled(t, s, 8, 4); !slices.Equal(got, []int{0, 4}) {
		t.Fatalf("measured invocations %v, want [0 4] (the first, and the one after the interval passed)", got)
	}
	every, err := New(Config{CPUSampleEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := sampled(t, every.Service("svc", "v1", 128), 3, -1); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("measured invocations %v with a negative interval, want all", got)
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

// sampled runs n busy invocations of s and returns which were measured;
// before invocation elapse (if ≥ 0) the sampling interval is made to have
// passed.
func sampled(t *testing.T, s *Service, n, elapse int) []int {
	t.Helper()
	var measured []int
	for i := range n {
		if i == elapse {
			s.cpuNext.Store(0)
		}
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
	return measured
}
