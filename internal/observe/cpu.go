package observe

import "time"

// DefaultCPUSampleEvery is how often, at most, an invocation of each
// version has its CPU time measured.
//
// Reading a thread's CPU clock is a system call (it is not in the vDSO;
// ~0.7 µs each on the VMs we measure on), and the goroutine must stay
// locked to its thread between the two readings: measuring every
// invocation cost a hello world 15% of a node's throughput
// (docs/performance.md). Measuring at most one invocation per version in
// each interval, and estimating the others from their running time at
// the CPU share the measured ones showed, bounds the cost per second
// whatever the request rate (≤100 measurements a second per version),
// while a service called less often than that is measured every time.
// RATIONALE.md says what is lost.
const DefaultCPUSampleEvery = 10 * time.Millisecond

// ppm is a share of 1 in parts per million.
const ppm = 1_000_000

// sampleCPU says whether an invocation taken at now has its CPU time
// measured: the version's first, and then one whenever the interval
// since the last measured one has passed. Most calls are one atomic
// load of a line that changes at most once an interval, so invocations
// on different cores do not contend for it.
func (s *Service) sampleCPU(now time.Time) bool {
	every := s.o.cfg.CPUSampleEvery
	if every <= 0 {
		return true
	}
	t := now.Sub(s.o.epoch) // monotonic, > 0
	next := s.cpuNext.Load()
	return int64(t) >= next && s.cpuNext.CompareAndSwap(next, int64(t+every))
}

// learnCPU folds a measured invocation (cpu of running wall time) into the
// version's CPU share: a moving average that weighs the newest sample a
// quarter. Concurrent updates may lose one another; the share stays an
// average of measured ones.
func (s *Service) learnCPU(cpu, wall time.Duration) {
	if wall <= 0 {
		return
	}
	share := uint64(min(float64(cpu)/float64(wall), 1) * ppm)
	old := s.cpuShare.Load()
	s.cpuShare.Store(old - old/4 + share/4)
}

// estimateCPU is the CPU time of an invocation that ran for wall and was
// not measured.
func (s *Service) estimateCPU(wall time.Duration) time.Duration {
	if wall <= 0 {
		return 0
	}
	return time.Duration(float64(wall) * float64(s.cpuShare.Load()) / ppm)
}
