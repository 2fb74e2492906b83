package observe

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Span is one recorded span: an invocation, or a call through a binding.
// wisp records its own spans rather than the OpenTelemetry SDK's: an SDK
// span cost 1.6 KB and ~3 µs per request, a tenth of a hello world's
// throughput (docs/performance.md), where this costs one small
// allocation. The identifiers, the W3C propagation and the OTLP export
// are OpenTelemetry's (export converts to the SDK's read-only spans).
// Fields are read-only once the span is recorded.
type Span struct {
	SpanContext trace.SpanContext
	Parent      trace.SpanContext // invalid for a root; remote when it came in a traceparent
	Service     string
	Version     string
	Name        string
	Kind        trace.SpanKind
	Start, End  time.Time
	Error       bool
	Status      string               // the error's description
	Links       []trace.SpanContext  // what a queue batch's messages were sent from
	attrs       []attribute.KeyValue // a binding call's
	call        callInfo             // an invocation's, when isCall
	isCall      bool
}

// callInfo is what an invocation's span says about it, kept as values
// (no pointer to the invocation or its context) so that the node's trace
// buffer holds little for the garbage collector to scan.
type callInfo struct {
	version, reqID, method, path string
	status                       int
	wall, cpu                    time.Duration
	cpuEstimated                 bool
	trigger                      Trigger
	out                          outcome
	cold, ran                    bool
}

// Attributes are the span's attributes (observability.md lists them).
func (s *Span) Attributes() []attribute.KeyValue {
	if s.isCall {
		return s.call.attributes()
	}
	return s.attrs
}

type spanKey struct{}

// spanContext is a context holding a binding call's span.
type spanContext struct {
	context.Context
	span Span
}

func (c *spanContext) Value(key any) any {
	if key == (spanKey{}) {
		return &c.span
	}
	return c.Context.Value(key)
}

// SpanContextFrom is the span context ctx is in: wisp's own span, or the
// remote parent that Extract put there; invalid outside any.
func SpanContextFrom(ctx context.Context) trace.SpanContext {
	if s, ok := ctx.Value(spanKey{}).(*Span); ok && s != nil {
		return s.SpanContext
	}
	return trace.SpanContextFromContext(ctx)
}

// newSpanContext makes the identity of a new span under parent: the
// parent's trace and sampling decision (parent-based sampling), or a new
// trace sampled with the observer's ratio, as the SDK's
// TraceIDRatioBased does it.
func (o *Observer) newSpanContext(parent trace.SpanContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{}
	if parent.IsValid() {
		cfg.TraceID, cfg.TraceFlags, cfg.TraceState = parent.TraceID(), parent.TraceFlags(), parent.TraceState()
	} else {
		for !cfg.TraceID.IsValid() {
			binary.NativeEndian.PutUint64(cfg.TraceID[:8], rand.Uint64())
			binary.NativeEndian.PutUint64(cfg.TraceID[8:], rand.Uint64())
		}
		if binary.BigEndian.Uint64(cfg.TraceID[8:16])>>1 < o.sampleBound {
			cfg.TraceFlags = trace.FlagsSampled
		}
	}
	for !cfg.SpanID.IsValid() {
		binary.NativeEndian.PutUint64(cfg.SpanID[:], rand.Uint64())
	}
	return trace.NewSpanContext(cfg)
}

// record keeps an ended span (when sampled) and exports it.
func (o *Observer) record(s *Span) {
	if !s.SpanContext.IsSampled() {
		return
	}
	o.recent.record(s)
	if o.export != nil {
		o.export.OnEnd(o.snapshot(s))
	}
}

// snapshot converts a span to the SDK's read-only form for the exporter.
func (o *Observer) snapshot(s *Span) sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStub{
		Name: s.Name, SpanContext: s.SpanContext, Parent: s.Parent, SpanKind: s.Kind,
		StartTime: s.Start, EndTime: s.End, Attributes: s.Attributes(),
		Resource:             o.resource(s.Service, s.Version),
		InstrumentationScope: instrumentation.Scope{Name: instrumentationName},
	}
	if s.Error {
		stub.Status = sdktrace.Status{Code: codes.Error, Description: s.Status}
	}
	for _, l := range s.Links {
		stub.Links = append(stub.Links, sdktrace.Link{SpanContext: l})
	}
	return stub.Snapshot()
}

// resource is a wisp service's OpenTelemetry resource: each wisp service
// is its own service.name, so a trace viewer draws the service graph.
func (o *Observer) resource(service, version string) *resource.Resource {
	key := service + "@" + version
	if r, ok := o.resources.Load(key); ok {
		return r.(*resource.Resource)
	}
	r := resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("service.version", version),
		attribute.String("service.namespace", "wisp"),
		attribute.String("service.instance.id", o.cfg.Node),
	)
	actual, _ := o.resources.LoadOrStore(key, r)
	return actual.(*resource.Resource)
}

// resources is declared here to keep the span plumbing in one file.
type resources = sync.Map
