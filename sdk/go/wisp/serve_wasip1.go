//go:build wasip1

package wisp

import (
	"io"
	"log"
	"net/http"
	"os"
	"runtime/debug"
	_ "unsafe" // go:linkname
)

var handler http.Handler

// Serve makes h (http.DefaultServeMux when nil) the service's handler and
// returns; call it from main. wisp then calls h for every request.
func Serve(h http.Handler) {
	if h == nil {
		h = http.DefaultServeMux
	}
	handler = h
}

func init() {
	// Garbage collection is slow under wasm and an instance's heap is
	// small: collecting less often made a hello world ~40% faster. The
	// host sets GOMEMLIMIT below the instance's memory cap, so the
	// collector still runs before the cap is reached.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	http.DefaultTransport = &Transport{}
	log.SetOutput(logWriter{})
}

// logWriter sends the log package's lines to the service's logs at info.
type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) {
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	hLog(1, string(p))
	return n, nil
}

//go:linkname mainMain main.main
func mainMain()

//go:wasmexport wisp_abi_v1
func abiV1() {}

// wisp_init runs main, which calls Serve.
//
//go:wasmexport wisp_init
func initExport() {
	mainMain()
	if handler == nil && !servesEvents() {
		os.Stderr.WriteString("wisp: main returned without calling wisp.Serve (or HandleQueue, HandleScheduled)\n")
		os.Exit(2)
	}
}

//go:wasmexport wisp_handle
func handleExport() int32 {
	if handler == nil { // only events were registered
		handler = http.NotFoundHandler()
	}
	head, err := result("request_head", hRequestHead)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	req, err := newRequest(head)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	if req.ContentLength > 0 {
		req.Body = &bodyReader{}
	}
	w := &writer
	w.reset()
	handler.ServeHTTP(w, req)
	w.finish()
	return 0
}

type bodyReader struct{ done bool }

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.done || len(p) == 0 {
		if b.done {
			return 0, io.EOF
		}
		return 0, nil
	}
	n := hRequestBody(bytesPtr(p), uint32(len(p)))
	if n < 0 {
		return 0, callError("request_body", n)
	}
	if n == 0 {
		b.done = true
		return 0, io.EOF
	}
	return int(n), nil
}

func (b *bodyReader) Close() error { return nil }
