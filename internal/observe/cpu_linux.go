package observe

import (
	"syscall"
	"unsafe"
)

// clockThreadCPUTime is CLOCK_THREAD_CPUTIME_ID: the CPU time consumed by
// the calling thread.
const clockThreadCPUTime = 3

// CPUMeasured reports whether invocations' CPU time is measured on this
// platform.
const CPUMeasured = true

// threadCPU is the calling OS thread's CPU time in nanoseconds. Callers
// lock the goroutine to its thread between two readings, so the
// difference is the CPU that goroutine used (and the runtime work the
// scheduler did on that thread for it, such as GC assists it was charged).
// The thread clock is not in the vDSO: this is a system call, made raw
// because it never blocks.
func threadCPU() int64 {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return ts.Nano()
}
