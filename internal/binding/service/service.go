// Package service owns service bindings ([[services]]): env.NAME.fetch()
// calls another service in-process, through the callee's own pool and
// limits, with no network hop and no need for a public route. The callee
// sees an ordinary request and the caller gets an ordinary response,
// streamed as the callee writes it; a callee that fails answers 5xx as it
// would over HTTP.
//
// The call path travels in the context. A call back into a service
// already on the path is refused at once as a cycle: letting it through
// would either recurse until the depth limit or, with a pool of busy
// instances, wait on itself until the deadline. Paths are bounded by
// MaxDepth too, and every call is a subrequest of the caller's
// invocation.
package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/runtime"
)

// Defaults.
const (
	DefaultMaxDepth     = 16
	DefaultMaxBodyBytes = 32 << 20 // the gateway's default request limit
)

// RequestIDHeader carries the callee's request id on its response (the
// gateway's header).
const RequestIDHeader = "X-Wisp-Request-Id"

// Config tunes service bindings on a node.
type Config struct {
	MaxDepth     int       // services on one call path; default 16
	MaxBodyBytes int64     // request body limit; default 32 MiB
	Logs         logs.Sink // gets one access entry per call, under the callee
	Log          *slog.Logger
}

// Binder makes service bindings that reach the node's loaded services.
type Binder struct {
	lookup func(name string) *dispatch.Service
	cfg    Config
}

// NewBinder makes a Binder; lookup returns the loaded, active version of a
// service on this node (nil when there is none).
func NewBinder(lookup func(name string) *dispatch.Service, cfg Config) *Binder {
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Binder{lookup: lookup, cfg: cfg}
}

// Binding is caller's env.NAME calling target.
func (b *Binder) Binding(caller, name, target string) binding.Service {
	return &call{b: b, caller: caller, name: name, target: target}
}

type call struct {
	b                    *Binder
	caller, name, target string
}

type pathKey struct{}

// Path is the chain of services handling the request that ctx belongs to,
// outermost first, as service bindings record it (empty outside one).
func Path(ctx context.Context) []string {
	p, _ := ctx.Value(pathKey{}).([]string)
	return p
}

// Error is a service-binding call refused before the callee ran.
type Error struct {
	Binding string
	Msg     string
}

func (e *Error) Error() string { return fmt.Sprintf("service binding %s: %s", e.Binding, e.Msg) }

// Fetch calls the bound service with req.
func (c *call) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	path := Path(ctx)
	if len(path) == 0 {
		path = []string{c.caller}
	}
	chain := append(append([]string(nil), path...), c.target)
	for _, s := range path {
		if s == c.target {
			return nil, &Error{c.name, fmt.Sprintf("calling %s would make a cycle (%s); a service binding may not call back into a service that is already handling the request", c.target, strings.Join(chain, " → "))}
		}
	}
	if len(chain) > c.b.cfg.MaxDepth {
		return nil, &Error{c.name, fmt.Sprintf("the call path %s is longer than the limit of %d services", strings.Join(chain, " → "), c.b.cfg.MaxDepth)}
	}
	if err := binding.Subrequest(ctx); err != nil {
		return nil, err
	}
	callee := c.b.lookup(c.target)
	if callee == nil {
		return nil, &Error{c.name, fmt.Sprintf("service %q does not exist or is not loaded on this node", c.target)}
	}
	body, err := readBody(req, c.b.cfg.MaxBodyBytes)
	if err != nil {
		return nil, &Error{c.name, err.Error()}
	}
	header := req.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if req.Host != "" {
		header.Set("Host", req.Host)
	} else {
		header.Set("Host", req.URL.Host)
	}
	id := newRequestID()
	rreq := &runtime.Request{ID: id, Method: req.Method, URL: req.URL.String(), Header: header, Body: body}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, pathKey{}, chain), time.Duration(callee.Manifest.Limits.TimeoutMS)*time.Millisecond)
	w := newPipeWriter(id)
	stop := context.AfterFunc(cctx, func() { w.abort(cctx.Err()) })
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		defer cancel()
		defer stop()
		err := callee.Pool.Fetch(cctx, rreq, w)
		w.finish(err)
		c.logCall(observe.TraceID(ctx), callee, req, id, w.statusCode(), start, err)
		done <- err
	}()
	select {
	case <-w.ready:
		return w.response(req), nil
	case err := <-done:
		if w.started() {
			return w.response(req), nil
		}
		return failure(err, id, req), nil
	}
}

func readBody(req *http.Request, limit int64) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("request body is over the limit of %d bytes", limit)
	}
	return b, nil
}

// failure is the response for a callee that failed before writing one,
// as the gateway would have answered.
func failure(err error, id string, req *http.Request) *http.Response {
	status, msg := http.StatusInternalServerError, "internal error"
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, RequestIDHeader: {id}}
	var ge *runtime.Error
	switch {
	case err == nil:
		status, msg = http.StatusOK, ""
	case errors.As(err, &ge):
		status, msg = ge.Status(), ge.Message
	case errors.Is(err, dispatch.ErrOverloaded), errors.Is(err, dispatch.ErrClosed):
		status, msg = http.StatusServiceUnavailable, err.Error()
		h.Set("Retry-After", "1")
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusGatewayTimeout, "the call ran out of time"
	}
	text := ""
	if err != nil {
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		text = fmt.Sprintf("%d %s: %s (request id %s)\n", status, http.StatusText(status), msg, id)
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: io.NopCloser(strings.NewReader(text)), ContentLength: int64(len(text)), Request: req,
	}
}

func (c *call) logCall(traceID string, callee *dispatch.Service, req *http.Request, id string, status int, start time.Time, err error) {
	if c.b.cfg.Logs == nil {
		return
	}
	c.b.cfg.Logs.Write(logs.Entry{
		Time: time.Now(), Service: callee.Name, Version: callee.Version, RequestID: id, TraceID: traceID, Level: logs.Info, Kind: logs.KindRequest,
		Message: fmt.Sprintf("%s %s %d %s (from %s via %s)", req.Method, req.URL.RequestURI(), status, time.Since(start).Round(10*time.Microsecond), c.caller, c.name),
	})
	if err != nil && !errors.Is(err, dispatch.ErrOverloaded) {
		c.b.cfg.Logs.Write(logs.Entry{Time: time.Now(), Service: callee.Name, Version: callee.Version, RequestID: id, TraceID: traceID, Level: logs.Error, Message: err.Error()})
	}
}

func newRequestID() string {
	var b [8]byte
	v := rand.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// pipeWriter is the callee's http.ResponseWriter: the header is handed
// over when written, the body streams through a pipe to the caller.
type pipeWriter struct {
	header http.Header
	ready  chan struct{} // closed when the status is written
	pr     *io.PipeReader
	pw     *io.PipeWriter

	mu     sync.Mutex
	status int
	sent   http.Header
	closed bool // the caller closed the body: drop what is written
}

func newPipeWriter(id string) *pipeWriter {
	pr, pw := io.Pipe()
	return &pipeWriter{header: http.Header{RequestIDHeader: {id}}, ready: make(chan struct{}), pr: pr, pw: pw}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if code < 200 {
		return // informational responses are not passed on
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 {
		return
	}
	w.status, w.sent = code, w.header.Clone()
	close(w.ready)
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n, err := w.pw.Write(b)
	if err != nil {
		w.mu.Lock()
		closed := w.closed
		w.mu.Unlock()
		if closed {
			return len(b), nil // nobody reads it any more
		}
	}
	return n, err
}

// Flush is a no-op: every Write reaches the caller when it reads.
func (w *pipeWriter) Flush() {}

func (w *pipeWriter) started() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status != 0
}

func (w *pipeWriter) statusCode() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// finish ends the body: at EOF, or with the callee's error if it failed
// after starting its response.
func (w *pipeWriter) finish(err error) {
	if err != nil {
		// Before the status, nobody reads the pipe: the caller gets a
		// failure response instead.
		w.pw.CloseWithError(fmt.Errorf("the called service failed while writing its response: %w", err))
		return
	}
	w.WriteHeader(http.StatusOK)
	w.pw.Close()
}

func (w *pipeWriter) abort(err error) { w.pw.CloseWithError(err) }

func (w *pipeWriter) response(req *http.Request) *http.Response {
	w.mu.Lock()
	status, h := w.status, w.sent
	w.mu.Unlock()
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: &pipeBody{w: w}, ContentLength: -1, Request: req,
	}
}

// pipeBody is the response body the caller reads.
type pipeBody struct{ w *pipeWriter }

func (b *pipeBody) Read(p []byte) (int, error) { return b.w.pr.Read(p) }

func (b *pipeBody) Close() error {
	b.w.mu.Lock()
	b.w.closed = true
	b.w.mu.Unlock()
	return b.w.pr.Close()
}
