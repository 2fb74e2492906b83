package main

import (
	"fmt"
	"os"
	"runtime/trace"
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
