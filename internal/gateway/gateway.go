package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
)

// RequestIDHeader carries the request id on every gateway response.
const RequestIDHeader = "X-Wisp-Request-Id"

// DefaultMaxBodyBytes bounds request bodies unless configured otherwise.
const DefaultMaxBodyBytes = 32 << 20

// Snapshot is what the gateway routes against; the node swaps in a new one
// atomically whenever the registry changes.
type Snapshot struct {
	Routes   *route.Table[*dispatch.Service]
	Services map[string]*dispatch.Service
}

// DefaultMaxHeaderCount bounds the request header fields unless configured
// otherwise (the server's MaxHeaderBytes bounds their size).
const DefaultMaxHeaderCount = 100

// Gateway serves HTTP requests to services by route.
type Gateway struct {
	Snapshot     func() *Snapshot
	Log          *slog.Logger
	Logs         logs.Sink // receives one access entry per request
	MaxBodyBytes int64
	// BodyTimeout bounds reading the request body, which is read in full
	// before an instance is taken: a slow client gets 408 and never holds
	// an instance. 0: no bound beyond the server's.
	BodyTimeout    time.Duration
	MaxHeaderCount int // 431 beyond; 0 means DefaultMaxHeaderCount
	// Async, when set, takes requests that prefer an asynchronous answer
	// (Prefer: respond-async, RFC 7240): it queues req for svc and writes
	// the answer (202 with an invocation id), returning its status. r's
	// context holds the gateway's invocation (observe.FromContext).
	Async func(w http.ResponseWriter, r *http.Request, svc *dispatch.Service, req *runtime.Request) int
}

// ServeHTTP routes a request to the service whose route matches it best.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.Snapshot()
	e, ok := s.Routes.Match(r.Host, r.URL.EscapedPath())
	if !ok {
		id := newRequestID()
		w.Header().Set(RequestIDHeader, id)
		http.Error(w, fmt.Sprintf("no service has a route for %s%s", r.Host, r.URL.EscapedPath()), http.StatusNotFound)
		return
	}
	g.Invoke(w, r, e.Value, requestURL(r))
}

// Invoke runs one HTTP invocation of svc for r, with the absolute URL the
// worker sees, and writes the response (or the error) to w.
func (g *Gateway) Invoke(w http.ResponseWriter, r *http.Request, svc *dispatch.Service, url string) {
	g.InvokeAs(w, r, svc, url, observe.HTTP)
}

// InvokeAs is Invoke for a request that reached svc through trigger (the
// gateway's routes, or the admin API's invoke).
func (g *Gateway) InvokeAs(w http.ResponseWriter, r *http.Request, svc *dispatch.Service, url string, trigger observe.Trigger) {
	start := time.Now()
	id := newRequestID()
	w.Header()[RequestIDHeader] = []string{id} // canonical already
	rw := &trackingWriter{ResponseWriter: w}
	ctx, inv := svc.Pool.Observer().BeginAt(observe.Extract(r.Context(), r.Header), trigger, r.Method, id, start)
	inv.SetHTTP(r.Method, r.URL.Path)
	status := g.invoke(ctx, rw, r, svc, url, id)
	end := time.Now()
	inv.EndHTTP(status, rw.received, rw.written, end)
	if g.Logs != nil {
		g.Logs.Write(logs.Entry{
			Time: end, Service: svc.Name, Version: svc.Version, RequestID: id, TraceID: inv.TraceID(),
			Level: logs.Info, Kind: logs.KindRequest, Message: accessLine(r.Method, r.URL.RequestURI(), status, end.Sub(start)),
		})
	}
}

// accessLine is "METHOD URI STATUS DURATION", built without fmt: it is
// made for every request.
func accessLine(method, uri string, status int, d time.Duration) string {
	b := make([]byte, 0, 32+len(method)+len(uri))
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = appendDuration(b, d.Round(10*time.Microsecond))
	return string(b)
}

// appendDuration formats d as time.Duration.String does below a minute
// ("1.23ms", "450µs", "2.5s"), without allocating.
func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Microsecond:
		return append(strconv.AppendInt(b, int64(d), 10), "ns"...)
	case d < time.Millisecond:
		return appendFrac(b, int64(d), 1e3, 3, "µs")
	case d < time.Second:
		return appendFrac(b, int64(d), 1e6, 6, "ms")
	}
	return appendFrac(b, int64(d), 1e9, 9, "s")
}

func appendFrac(b []byte, v, unit int64, digits int, suffix string) []byte {
	b = strconv.AppendInt(b, v/unit, 10)
	if frac := v % unit; frac != 0 {
		var f [9]byte
		for i := digits - 1; i >= 0; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := digits
		for n > 0 && f[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, f[:n]...)
	}
	return append(b, suffix...)
}

func (g *Gateway) invoke(ctx context.Context, w *trackingWriter, r *http.Request, svc *dispatch.Service, url, id string) int {
	if n := headerCount(r.Header); n > cmp.Or(g.MaxHeaderCount, DefaultMaxHeaderCount) {
		return g.fail(w, id, http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("%d header fields, over the limit of %d", n, cmp.Or(g.MaxHeaderCount, DefaultMaxHeaderCount)))
	}
	rc := http.NewResponseController(w)
	body, status, msg := g.readBody(w, rc, r)
	if status != 0 {
		return g.fail(w, id, status, msg)
	}
	w.received = int64(len(body))
	// The gateway owns r: the guest gets its header map, with Host in it,
	// rather than a copy.
	header := r.Header
	header["Host"] = []string{r.Host}
	req := &runtime.Request{ID: id, Method: r.Method, URL: url, Header: header, Body: body}
	if g.Async != nil && PrefersAsync(r.Header) {
		return g.Async(w, r.WithContext(ctx), svc, req) // ctx holds the invocation
	}
	deadline := time.Now().Add(time.Duration(svc.Manifest.Limits.TimeoutMS) * time.Millisecond)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// A client that does not read its response must not hold the
	// instance writing it past the invocation's deadline.
	if rc.SetWriteDeadline(deadline) == nil {
		defer rc.SetWriteDeadline(time.Time{})
	}
	err := svc.Pool.Fetch(ctx, req, w)
	if err == nil {
		return w.status
	}
	if w.wrote {
		// Headers are gone; all we can do is cut the response short.
		g.logFailure(ctx, svc, id, err)
		panic(http.ErrAbortHandler)
	}
	var ge *runtime.Error
	switch {
	case errors.As(err, &ge):
		g.logFailure(ctx, svc, id, err)
		return g.fail(w, id, ge.Status(), ge.Message)
	case errors.Is(err, dispatch.ErrOverloaded), errors.Is(err, dispatch.ErrClosed):
		w.Header().Set("Retry-After", "1")
		return g.fail(w, id, http.StatusServiceUnavailable, err.Error())
	default:
		g.logFailure(ctx, svc, id, err)
		return g.fail(w, id, http.StatusInternalServerError, "internal error")
	}
}

// readBody reads the whole request body, bounded in size (413) and in
// time (408), before any instance is taken. A non-zero status says why it
// failed.
func (g *Gateway) readBody(w http.ResponseWriter, rc *http.ResponseController, r *http.Request) (body []byte, status int, msg string) {
	maxBody := g.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	if r.ContentLength > maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, maxBody)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, ""
	}
	deadline := false
	if g.BodyTimeout > 0 {
		deadline = rc.SetReadDeadline(time.Now().Add(g.BodyTimeout)) == nil
	}
	var err error
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	}
	if err == nil && deadline {
		_ = rc.SetReadDeadline(time.Time{})
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		// The deadline stays: the server must not wait for the rest of
		// the body before it answers and closes the connection.
		w.Header().Set("Connection", "close")
		return nil, http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within %s", g.BodyTimeout)
	case err != nil:
		return nil, http.StatusBadRequest, "reading the request body: " + err.Error()
	case int64(len(body)) > maxBody:
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", maxBody)
	}
	return body, 0, ""
}

func headerCount(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

func (g *Gateway) logFailure(ctx context.Context, svc *dispatch.Service, id string, err error) {
	if g.Logs != nil {
		g.Logs.Write(logs.Entry{Time: time.Now(), Service: svc.Name, Version: svc.Version, RequestID: id, TraceID: observe.TraceID(ctx), Level: logs.Error, Message: err.Error()})
	}
	if g.Log != nil {
		g.Log.Warn("invocation failed", "service", svc.Name, "version", svc.Version, "request_id", id, "error", err)
	}
}

// fail writes a plain-text error naming the request id.
func (g *Gateway) fail(w http.ResponseWriter, id string, status int, msg string) int {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%d %s: %s (request id %s)\n", status, http.StatusText(status), firstLine(msg), id)
	return status
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// requestURL is the absolute URL the client asked for.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := rand.Uint64()
	for i := range b {
		b[i] = digits[v>>(4*i)&0xf]
	}
	return string(b[:])
}

// trackingWriter remembers whether the response has started, and counts
// the body bytes in and out.
type trackingWriter struct {
	http.ResponseWriter
	wrote    bool
	status   int
	received int64 // request body
	written  int64 // response body
}

func (t *trackingWriter) WriteHeader(code int) {
	if !t.wrote {
		t.wrote, t.status = true, code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.wrote, t.status = true, http.StatusOK
	}
	n, err := t.ResponseWriter.Write(b)
	t.written += int64(n)
	return n, err
}

// Flush lets streaming responses reach the client as they are written.
func (t *trackingWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
