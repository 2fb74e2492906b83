package observe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName is the instrumentation scope of wisp's spans.
const instrumentationName = "github.com/wisp-run/wisp"

// newOTLPExporter exports to an OTLP/HTTP collector at endpoint: a base
// URL (the traces path /v1/traces is added) or the full traces URL.
func newOTLPExporter(endpoint string) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:4318)", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter for %s: %w", endpoint, err)
	}
	return exp, nil
}

// traceparent is the W3C header, as Go canonicalizes it.
const traceparent = "Traceparent"

// Extract returns ctx with the remote parent that h's W3C traceparent
// (and tracestate) names, or ctx itself when h has none or it is invalid.
func Extract(ctx context.Context, h http.Header) context.Context {
	if len(h[traceparent]) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(h))
}

// Inject writes ctx's span as W3C traceparent (and tracestate) into h; it
// does nothing when ctx has no valid span.
func Inject(ctx context.Context, h http.Header) {
	sc := SpanContextFrom(ctx)
	if !sc.IsValid() {
		return
	}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(ctx, sc), propagation.HeaderCarrier(h))
}

// Headers is a header map of another protocol (nats.Header has this
// type), for Inject and Extract.
type Headers = map[string][]string

// InjectMap is Inject for a header map that is not an http.Header.
func InjectMap(ctx context.Context, h Headers) { Inject(ctx, http.Header(h)) }

// ExtractMap is Extract for a header map that is not an http.Header.
func ExtractMap(ctx context.Context, h Headers) context.Context { return Extract(ctx, http.Header(h)) }

// SpanContextOf is the span context a header map carries (invalid when
// none), for linking a batch's messages to the traces that sent them.
func SpanContextOf(h Headers) trace.SpanContext {
	return trace.SpanContextFromContext(ExtractMap(context.Background(), h))
}

// TraceID is the id of ctx's trace, as 32 hex digits, or "" outside one.
func TraceID(ctx context.Context) string {
	sc := SpanContextFrom(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// Batch is the context a batch of messages is handled in, given the
// span that sent each message (SpanContextOf its headers; invalid when it
// had none): its parent is the sender of the first message that has one,
// and every sender is linked (BeginLinked), so the consumer's invocation
// joins the first sender's trace and points at the others'.
func Batch(ctx context.Context, senders []trace.SpanContext) (context.Context, []trace.SpanContext) {
	var links []trace.SpanContext
	for _, sc := range senders {
		if sc.IsValid() {
			links = append(links, sc)
		}
	}
	if len(links) == 0 {
		return ctx, nil
	}
	return trace.ContextWithRemoteSpanContext(ctx, links[0]), links
}
