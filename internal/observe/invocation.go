package observe

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Trigger is what made an invocation run.
type Trigger uint8

// Triggers.
const (
	HTTP   Trigger = iota // a request routed by the gateway
	Invoke                // the admin API's invoke
	Call                  // a service-binding call from another service
	Queue                 // a batch of queue messages
	Cron                  // a cron tick
	Async                 // an asynchronous invocation
	Event                 // anything else run through Pool.Do
	numTriggers
)

var triggerNames = [numTriggers]string{"http", "invoke", "service", "queue", "cron", "async", "event"}

func (t Trigger) String() string { return triggerNames[t] }

// outcome is how an invocation ended, for metrics.
type outcome uint8

const (
	outOK       outcome = iota
	outError            // the guest threw or answered something that is not a response
	outTimeout          // it overran its deadline
	outCrash            // it trapped, exhausted a limit or was cancelled
	outRejected         // no instance could take it (capacity, version gone)
	outInvalid          // refused before any instance was asked (a bad request)
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "error", "timeout", "crash", "rejected", "invalid"}

// errPanicked stands for a guest call that panicked.
var errPanicked = errors.New("the invocation panicked")

func classify(err error) outcome {
	if err == nil {
		return outOK
	}
	var ge *runtime.Error
	if errors.As(err, &ge) {
		switch ge.Kind {
		case runtime.Timeout:
			return outTimeout
		case runtime.Crash:
			return outCrash
		}
		return outError
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return outTimeout
	}
	return outCrash
}

// Invocation states.
const (
	pending uint8 = iota // begun, no instance yet
	running              // an instance is running it on the goroutine that called Start
	stopped              // the guest returned
)

// Invocation is one invocation being observed, from Begin to its end. It
// is also the context the guest runs with: FromContext finds it, and it
// carries the invocation's span.
type Invocation struct {
	context.Context
	svc      *Service
	trigger  Trigger
	span     Span // when traced
	traced   bool
	name     string
	reqID    string
	method   string
	path     string
	begun    time.Time
	taken    time.Time
	stopped  time.Time // the guest returned
	freed    time.Time // lingering work ended and the instance was given back
	ended    time.Time // the caller answered (End, EndHTTP)
	cpu0     int64
	measured bool // the CPU clock was read for this one (sampleCPU)
	wall     time.Duration
	cpu      time.Duration
	status   int
	state    uint8
	cold     bool
	out      outcome
	refused  bool
	accepted bool   // taken to run later (an asynchronous invocation)
	refusal  string // why no instance could be had
	// parties is how many of the caller that began it and the pool that
	// ran it have yet to say they are done; the last one ends it.
	parties atomic.Int32
}

type invocationKey struct{}

// Value makes the invocation findable in its context.
func (inv *Invocation) Value(key any) any {
	switch key {
	case invocationKey{}:
		return inv
	case spanKey{}:
		if inv.traced {
			return &inv.span
		}
	}
	return inv.Context.Value(key)
}

// FromContext is the invocation ctx belongs to, or nil.
func FromContext(ctx context.Context) *Invocation {
	inv, _ := ctx.Value(invocationKey{}).(*Invocation)
	return inv
}

// Begin starts observing an invocation of s that the caller hands to s's
// pool with the returned context; the pool adopts it (Adopt) and the
// caller ends it (End or EndHTTP) once it has answered. name is the
// span's name (the HTTP method, "queue orders", …), reqID the request or
// invocation id shown in logs. A traceparent already extracted into ctx
// (Extract) makes it part of that trace.
func (s *Service) Begin(ctx context.Context, t Trigger, name, reqID string) (context.Context, *Invocation) {
	return s.begin(ctx, t, name, reqID, nil, time.Now())
}

// BeginAt is Begin for a caller that has just read the clock: at is when
// the invocation arrived. (A clock reading costs ~50 ns on the VMs we
// measure on, and the gateway reads it for its access log anyway.)
func (s *Service) BeginAt(ctx context.Context, t Trigger, name, reqID string, at time.Time) (context.Context, *Invocation) {
	return s.begin(ctx, t, name, reqID, nil, at)
}

// BeginLinked is Begin for an invocation caused by several senders (a
// queue batch): its span links each of their spans. Its parent is ctx's
// span (ExtractMap of the first message's headers, typically).
func (s *Service) BeginLinked(ctx context.Context, t Trigger, name, reqID string, links []trace.SpanContext) (context.Context, *Invocation) {
	return s.begin(ctx, t, name, reqID, links, time.Now())
}

func (s *Service) begin(ctx context.Context, t Trigger, name, reqID string, links []trace.SpanContext, at time.Time) (context.Context, *Invocation) {
	if s == nil {
		return ctx, nil
	}
	inv := &Invocation{Context: ctx, svc: s, trigger: t, name: name, reqID: reqID, begun: at}
	inv.parties.Store(1)
	if s.traced {
		kind := trace.SpanKindServer
		switch t {
		case Queue, Async, Cron:
			kind = trace.SpanKindConsumer
		}
		parent := SpanContextFrom(ctx)
		inv.traced = true
		inv.span = Span{
			SpanContext: s.o.newSpanContext(parent), Parent: parent, Service: s.name, Version: s.version,
			Name: name, Kind: kind, Start: inv.begun, Links: links, isCall: true,
		}
	}
	return inv, inv
}

// SetHTTP records the request's method and path for the span.
func (inv *Invocation) SetHTTP(method, path string) {
	if inv != nil {
		inv.method, inv.path = method, path
	}
}

// Adopt is called by s's pool when an invocation arrives, before it takes
// an instance: it returns the invocation its caller began (Begin) or, when
// there is none, begins one itself, which ends when the guest stops. The
// trigger of one it begins is Call when ctx belongs to another running
// invocation (a service-binding call), else Event, or HTTP for a request
// (req not nil), whose traceparent it then honours.
func (s *Service) Adopt(ctx context.Context, req *runtime.Request) (context.Context, *Invocation) {
	if s == nil {
		return ctx, nil
	}
	if ctx.Value(skipKey{}) != nil {
		return ctx, nil
	}
	outer := FromContext(ctx)
	if outer != nil && outer.state == pending {
		outer.parties.Add(1)
		return ctx, outer
	}
	t, name, id := Event, "run", ""
	if req != nil {
		t, name, id = HTTP, req.Method, req.ID
	}
	if outer != nil {
		t = Call
	} else if req != nil && !SpanContextFrom(ctx).IsValid() {
		ctx = Extract(ctx, req.Header)
	}
	ctx, inv := s.Begin(ctx, t, name, id)
	if req != nil {
		inv.SetHTTP(req.Method, urlPath(req.URL))
	}
	return ctx, inv
}

// urlPath is the path of an absolute URL, without its query, as a
// substring (no allocation).
func urlPath(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			return "/"
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

type skipKey struct{}

// Skip marks ctx so that pools do not observe what runs with it: work
// that is not an invocation of the service (checking a version's handlers
// at deploy) is neither metered nor traced.
func Skip(ctx context.Context) context.Context { return context.WithValue(ctx, skipKey{}, true) }

// Accepted says the caller took the invocation to run later (an
// asynchronous invocation answered 202): it ends without an instance and
// counts as ok; the run is its own invocation.
func (inv *Invocation) Accepted() {
	if inv != nil {
		inv.accepted = true
	}
}

// Start says an instance of svc (the version that runs it, which differs
// from the one it was begun for when that one was retired meanwhile) now
// runs the invocation on the calling goroutine, until Stop on the same
// goroutine. For the invocations whose CPU time is measured (at most one
// of the version's per CPUSampleEvery, the first included), the goroutine stays
// locked to its OS thread in between so that the thread's CPU clock
// measures it; the others' CPU is estimated (Stop).
func (inv *Invocation) Start(svc *Service, cold bool) {
	if inv == nil {
		return
	}
	if svc != nil {
		inv.svc = svc
	}
	inv.state, inv.cold = running, cold
	// The CPU clock is read inside the wall clock's readings, so CPU
	// never exceeds the running time.
	inv.taken = time.Now()
	if CPUMeasured && inv.svc.sampleCPU(inv.taken) {
		inv.measured = true
		goruntime.LockOSThread()
		inv.cpu0 = threadCPU()
	}
}

// Stop says the guest returned with err (nil, or what made it fail),
// on the goroutine that called Start.
func (inv *Invocation) Stop(err error) {
	if inv == nil || inv.state != running {
		return
	}
	var cpu int64
	if inv.measured {
		cpu = threadCPU()
		goruntime.UnlockOSThread()
	}
	now := time.Now()
	inv.state, inv.stopped = stopped, now
	if inv.measured {
		if cpu >= inv.cpu0 && inv.cpu0 != 0 {
			inv.cpu = min(time.Duration(cpu-inv.cpu0), now.Sub(inv.taken))
			inv.svc.learnCPU(inv.cpu, now.Sub(inv.taken))
		}
	} else {
		inv.cpu = inv.svc.estimateCPU(now.Sub(inv.taken))
	}
	inv.out = classify(err)
	inv.done()
}

// Linger says the instance stays held after the guest returns, for work
// it left running (a JS worker's ctx.waitUntil); Released says when it is
// given back. That time counts as the invocation's (wall time, GB-s); the
// CPU of that work, done on another goroutine, does not.
func (inv *Invocation) Linger() {
	if inv != nil {
		inv.parties.Add(1)
	}
}

// Released ends what Linger began.
func (inv *Invocation) Released() {
	if inv != nil {
		inv.freed = time.Now()
		inv.done()
	}
}

// Refuse says no instance could be had for the invocation (err is why).
func (inv *Invocation) Refuse(err error) {
	if inv == nil {
		return
	}
	inv.refused = true
	inv.out = outRejected
	if inv.traced {
		inv.refusal = err.Error()
	}
	inv.done()
}

// End is the caller's end of an invocation it began.
func (inv *Invocation) End() {
	if inv != nil {
		inv.ended = time.Now()
		inv.done()
	}
}

// EndHTTP ends an HTTP invocation the caller began, which answered at
// end (a clock reading the caller has made anyway): status is the
// response's, sent the body bytes sent to the client (egress).
func (inv *Invocation) EndHTTP(status int, received, sent int64, end time.Time) {
	if inv == nil {
		return
	}
	inv.status, inv.ended = status, end
	inv.svc.countHTTP(status, received, sent)
	inv.done()
}

// AddEgress counts n bytes that ctx's invocation sent out of the node
// (an outbound request's body).
func AddEgress(ctx context.Context, n int64) {
	if inv := FromContext(ctx); inv != nil && n > 0 {
		inv.svc.addEgress(n)
	}
}

// TraceID is the invocation's trace id (32 hex digits), "" when it is
// not traced.
func (inv *Invocation) TraceID() string {
	if inv == nil || !inv.traced {
		return ""
	}
	return inv.span.SpanContext.TraceID().String()
}

// Usage is what the invocation used once it ended: the time it held an
// instance and its CPU time.
func (inv *Invocation) Usage() (wall, cpu time.Duration) { return inv.wall, inv.cpu }

func (inv *Invocation) done() {
	if inv.parties.Add(-1) == 0 {
		inv.finish()
	}
}

// finish records the invocation in the metrics and ends its span.
func (inv *Invocation) finish() {
	s := inv.svc
	if inv.state == pending && !inv.refused && !inv.accepted {
		inv.out = outInvalid // the caller ended it before asking the pool
	}
	out := inv.out
	// The invocation ends with the last of its parties: the caller's
	// answer, the guest's return or the end of its lingering work. Each
	// read the clock when it happened; only a refusal did not.
	now := inv.ended
	for _, t := range [...]time.Time{inv.stopped, inv.freed} {
		if t.After(now) {
			now = t
		}
	}
	if now.IsZero() {
		now = time.Now()
	}
	s.count(inv.trigger, out, now.Sub(inv.begun))
	if inv.state == stopped {
		inv.wall = inv.stopped.Sub(inv.taken)
		if inv.freed.After(inv.stopped) {
			inv.wall = inv.freed.Sub(inv.taken)
		}
		// inv.svc is the version that ran it (Start), whose usage counter
		// this is.
		if u := inv.svc.usage; u != nil {
			u.Add(inv.wall, inv.cpu)
		}
		s.countRun(inv.wall, inv.cpu)
	}
	if !inv.traced {
		return
	}
	sp := &inv.span
	sp.End = now
	switch {
	case out == outRejected:
		sp.Error, sp.Status = true, inv.refusal
	case out != outOK:
		sp.Error, sp.Status = true, outcomeNames[out]
	case inv.status >= 500:
		sp.Error = true
	}
	sp.call = callInfo{
		version: s.version, reqID: inv.reqID, method: inv.method, path: inv.path, status: inv.status,
		wall: inv.wall, cpu: inv.cpu, cpuEstimated: inv.state == stopped && !inv.measured && CPUMeasured,
		trigger: inv.trigger, out: out, cold: inv.cold, ran: inv.state == stopped,
	}
	s.o.record(sp)
}

// attributes are an invocation span's attributes, made when they are
// read (wisp trace, OTLP export), not on the invocation's path.
func (c *callInfo) attributes() []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("wisp.version", c.version),
		attribute.String("wisp.trigger", triggerNames[c.trigger]),
	}
	if c.out != outOK {
		attrs = append(attrs, attribute.String("wisp.outcome", outcomeNames[c.out]))
	}
	if c.reqID != "" {
		attrs = append(attrs, attribute.String("wisp.request_id", c.reqID))
	}
	if c.method != "" {
		attrs = append(attrs, attribute.String("http.request.method", c.method), attribute.String("url.path", c.path))
	}
	if c.status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", c.status))
	}
	if c.ran {
		if c.cold {
			attrs = append(attrs, attribute.Bool("wisp.cold_start", true))
		}
		attrs = append(attrs, attribute.Int64("wisp.wall_ns", int64(c.wall)), attribute.Int64("wisp.cpu_ns", int64(c.cpu)))
		if c.cpuEstimated {
			attrs = append(attrs, attribute.Bool("wisp.cpu_estimated", true))
		}
	}
	return attrs
}
