//go:build !linux

package observe

// CPUMeasured reports whether invocations' CPU time is measured on this
// platform: only Linux has the per-thread clock we read.
const CPUMeasured = false

func threadCPU() int64 { return 0 }
