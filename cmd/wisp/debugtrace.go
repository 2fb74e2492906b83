package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
)

// startRuntimeTrace writes a Go execution trace (runtime/trace) of the
// whole process to the file named by WISP_RUNTIME_TRACE, for diagnosing
// latency (`go tool trace FILE`). It is a debugging aid, not a feature:
// undocumented in --help, described in docs/performance.md. The returned
// func stops the trace and closes the file.
func startRuntimeTrace() func() {
	path := os.Getenv("WISP_RUNTIME_TRACE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wisp: WISP_RUNTIME_TRACE: %v\n", err)
		return func() {}
	}
	if err := trace.Start(f); err != nil {
		fmt.Fprintf(os.Stderr, "wisp: WISP_RUNTIME_TRACE: start trace: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}

// startHeapProfile, when WISP_HEAP_PROFILE names a file, samples the
// heap finely from start-up and, on each SIGUSR1, writes its profile
// (live objects after a collection) there: what the node holds at that
// moment, for `go tool pprof -sample_index=inuse_space FILE`. A
// debugging aid like WISP_RUNTIME_TRACE.
func startHeapProfile() {
	path := os.Getenv("WISP_HEAP_PROFILE")
	if path == "" {
		return
	}
	runtime.MemProfileRate = 4096
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "wisp: WISP_HEAP_PROFILE: %v\n", err)
			}
		}
	}()
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
