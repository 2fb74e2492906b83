//go:build wasip1

package wisp

import (
	"encoding/binary"
	"io"
	"log"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
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
	x := new(exchange)
	req, err := readRequest(&x.req, &x.url)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	w := &x.w
	w.header, w.buf = make(http.Header), bodyBuf[:0]
	handler.ServeHTTP(w, req)
	w.finish()
	return 0
}

// exchange is one request and its response, allocated together: each
// allocation costs a Go guest a few hundred ns under wasm.
type exchange struct {
	req http.Request
	url url.URL
	w   responseWriter
}

// Allocations are what a Go guest pays most for (a few hundred ns each
// under wasm), so the request path makes few: one buffer holds the whole
// head and every string points into it, and header values share one
// backing array.
func readRequest(req *http.Request, u *url.URL) (*http.Request, error) {
	head, err := result("request_head", hRequestHead)
	if err != nil {
		return nil, err
	}
	ss, err := viewList(head)
	if err != nil || len(ss) < 4 || len(ss)%2 != 0 {
		return nil, &Error{Op: "request_head", Code: CodeFailed, Message: "request_head: malformed request head"}
	}
	u, err = parseURLInto(u, ss[1])
	if err != nil {
		return nil, err
	}
	size, _ := strconv.ParseInt(ss[3], 10, 64)
	n := (len(ss) - 4) / 2
	h := make(http.Header, n+1)
	values := make([]string, n+1) // the last for X-Wisp-Request-Id
	for i := 4; i < len(ss); i += 2 {
		k := textproto.CanonicalMIMEHeaderKey(ss[i])
		if old, ok := h[k]; ok {
			h[k] = append(old, ss[i+1])
			continue
		}
		j := (i - 4) / 2
		values[j] = ss[i+1]
		h[k] = values[j : j+1 : j+1]
	}
	*req = http.Request{
		Method:        ss[0],
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: size,
		Host:          u.Host,
		RequestURI:    u.RequestURI(),
	}
	if host := h.Get("Host"); host != "" {
		req.Host = host
		h.Del("Host")
	}
	if size > 0 {
		req.Body = &bodyReader{}
	}
	if id := ss[2]; id != "" {
		values[n] = id
		h["X-Wisp-Request-Id"] = values[n : n+1 : n+1]
	}
	return req, nil
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

// flushSize is how much of the body is buffered before it goes to the host.
const flushSize = 8 << 10

// headBuf and bodyBuf are reused from request to request: the host copies
// what it is given before the call returns.
var headBuf, bodyBuf []byte

type responseWriter struct {
	header   http.Header
	status   int
	headSent bool
	buf      []byte
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || w.headSent {
		return
	}
	if code < 100 || code > 999 {
		panic("wisp: invalid WriteHeader code " + strconv.Itoa(code))
	}
	w.status = code
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf)+len(p) > flushSize {
		if err := w.flush(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// WriteString is Write without converting s to a new slice
// (io.StringWriter, which io.WriteString and fmt use).
func (w *responseWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf)+len(s) > flushSize {
		return w.Write([]byte(s))
	}
	w.buf = append(w.buf, s...)
	return len(s), nil
}

// Flush sends what is buffered (http.Flusher).
func (w *responseWriter) Flush() { _ = w.flush(nil) }

func (w *responseWriter) flush(extra []byte) error {
	if !w.headSent {
		w.sendHead()
	}
	for _, b := range [][]byte{w.buf, extra} {
		if len(b) == 0 {
			continue
		}
		if rc := hResponseWrite(bytesPtr(b), uint32(len(b))); rc < 0 {
			w.buf = w.buf[:0]
			return callError("response_write", rc)
		}
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *responseWriter) sendHead() {
	w.headSent = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if _, ok := w.header["Content-Type"]; !ok && len(w.buf) > 0 && w.header.Get("Content-Encoding") == "" {
		w.header.Set("Content-Type", http.DetectContentType(w.buf))
	}
	n := 0
	for _, vs := range w.header {
		n += 2 * len(vs)
	}
	head := binary.LittleEndian.AppendUint32(headBuf[:0], uint32(n))
	for k, vs := range w.header {
		for _, v := range vs {
			head = appendString(appendString(head, k), v)
		}
	}
	headBuf = head
	status := w.status
	if status < 200 {
		status = http.StatusOK // informational responses are not relayed
	}
	if rc := hResponseHead(int32(status), bytesPtr(head), uint32(len(head))); rc < 0 {
		os.Stderr.WriteString(callError("response_head", rc).Error() + "\n")
	}
}

func (w *responseWriter) finish() {
	if !w.headSent || len(w.buf) > 0 {
		_ = w.flush(nil)
	}
	if cap(w.buf) <= 4*flushSize {
		bodyBuf = w.buf[:0]
	}
}
