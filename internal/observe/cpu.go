package observe

import "time"

// DefaultCPUSample measures the CPU time of one invocation in 8.
//
// Reading a thread's CPU clock is a system call (it is not in the vDSO),
// and the goroutine must stay locked to its thread between the two
// readings: on a hello world that cost 15% of a node's throughput
// (docs/performance.md). Measuring one invocation in eight, and
// estimating the others from their running time at the CPU share the
// measured ones showed, keeps usage and the CPU metric accurate for a
// steady workload at an eighth of the cost; RATIONALE.md says what is
// lost.
const DefaultCPUSample = 8

// ppm is a share of 1 in parts per million.
const ppm = 1_000_000

// sampleCPU says whether the invocation being started has its CPU time
// measured: the version's first, and one in CPUSample after it.
func (s *Service) sampleCPU() bool {
	n := s.cpuTick.Add(1) - 1
	return n%uint64(s.o.cfg.CPUSample) == 0
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
