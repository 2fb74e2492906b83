package observe

import (
	"context"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wisp-run/wisp/internal/binding"
)

// WrapEnv makes every call through env's bindings observed: a child span
// of the invocation making it (client, or producer for queue sends),
// counted in wisp_binding_operations_total and timed in
// wisp_binding_operation_duration_seconds. Outbound requests and
// service-binding calls carry the W3C traceparent of their span, and
// outbound request bodies count as the service's egress. targets names
// the service each service binding calls and the queue each queue
// binding sends to. env itself is not changed.
func (s *Service) WrapEnv(env *binding.Env, targets map[string]string) *binding.Env {
	if s == nil || env == nil {
		return env
	}
	out := *env
	if len(env.KV) > 0 {
		out.KV = make(map[string]binding.KV, len(env.KV))
		for name, kv := range env.KV {
			out.KV[name] = &kvOps{KV: kv, b: s.binding("kv", name, "KV "+name)}
		}
	}
	if len(env.Buckets) > 0 {
		out.Buckets = make(map[string]binding.Bucket, len(env.Buckets))
		for name, b := range env.Buckets {
			out.Buckets[name] = &bucketOps{Bucket: b, b: s.binding("bucket", name, "bucket "+name)}
		}
	}
	if len(env.Services) > 0 {
		out.Services = make(map[string]binding.Service, len(env.Services))
		for name, svc := range env.Services {
			b := s.binding("service", name, "service "+name)
			if t := targets[name]; t != "" {
				b.attrs = append(b.attrs, attribute.String("wisp.target", t))
				b.span = "call " + t
			}
			out.Services[name] = &serviceOps{Service: svc, b: b}
		}
	}
	if len(env.Queues) > 0 {
		out.Queues = make(map[string]binding.Producer, len(env.Queues))
		for name, q := range env.Queues {
			b := s.binding("queue", name, "queue "+name)
			if t := targets[name]; t != "" {
				b.attrs = append(b.attrs, attribute.String("messaging.destination.name", t))
				b.span = "queue " + t
			}
			out.Queues[name] = &producerOps{Producer: q, b: b}
		}
	}
	if env.Fetch != nil {
		out.Fetch = &fetchOps{Fetcher: env.Fetch, b: s.binding("fetch", "", "fetch")}
	}
	return &out
}

// bound is one binding of a service, for its spans and metrics.
type bound struct {
	s     *Service
	typ   string
	span  string // span name prefix
	attrs []attribute.KeyValue
}

func (s *Service) binding(typ, name, span string) *bound {
	attrs := []attribute.KeyValue{attribute.String("wisp.binding.type", typ)}
	if name != "" {
		attrs = append(attrs, attribute.String("wisp.binding", name))
	}
	return &bound{s: s, typ: typ, span: span, attrs: attrs}
}

// start begins a call: a child span of ctx's invocation (nil when
// tracing is off), and the clock for the metrics. The returned func ends
// it; attributes may be added to the span before that.
func (b *bound) start(ctx context.Context, op string, kind trace.SpanKind, extra ...attribute.KeyValue) (context.Context, *Span, func(error)) {
	began := time.Now()
	var span *Span
	if b.s.traced {
		parent := SpanContextFrom(ctx)
		c := &spanContext{Context: ctx}
		attrs := make([]attribute.KeyValue, 0, len(b.attrs)+1+len(extra)+1)
		attrs = append(append(append(attrs, b.attrs...), attribute.String("wisp.binding.operation", op)), extra...)
		c.span = Span{
			SpanContext: b.s.o.newSpanContext(parent), Parent: parent, Service: b.s.name, Version: b.s.version,
			Name: b.span + " " + op, Kind: kind, Start: began, attrs: attrs,
		}
		ctx, span = c, &c.span
	}
	return ctx, span, func(err error) {
		end := time.Now()
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m := b.s.o.m
		m.bindingOps.WithLabelValues(b.s.name, b.typ, op, outcome).Inc()
		m.bindingDur.WithLabelValues(b.s.name, b.typ, op).Observe(end.Sub(began).Seconds())
		if span != nil {
			span.End = end
			if err != nil {
				span.Error, span.Status = true, err.Error()
			}
			b.s.o.record(span)
		}
	}
}

// setStatus records the HTTP status a call got.
func (s *Span) setStatus(code int) {
	if s != nil {
		s.attrs = append(s.attrs, attribute.Int("http.response.status_code", code))
	}
}

type kvOps struct {
	binding.KV
	b *bound
}

func (k *kvOps) Get(ctx context.Context, key string) (*binding.KVEntry, error) {
	ctx, _, end := k.b.start(ctx, "get", trace.SpanKindClient)
	e, err := k.KV.Get(ctx, key)
	end(err)
	return e, err
}

func (k *kvOps) Put(ctx context.Context, key string, value []byte, opts binding.KVPutOptions) error {
	ctx, _, end := k.b.start(ctx, "put", trace.SpanKindClient)
	err := k.KV.Put(ctx, key, value, opts)
	end(err)
	return err
}

func (k *kvOps) Delete(ctx context.Context, key string) error {
	ctx, _, end := k.b.start(ctx, "delete", trace.SpanKindClient)
	err := k.KV.Delete(ctx, key)
	end(err)
	return err
}

func (k *kvOps) List(ctx context.Context, opts binding.KVListOptions) (*binding.KVList, error) {
	ctx, _, end := k.b.start(ctx, "list", trace.SpanKindClient)
	l, err := k.KV.List(ctx, opts)
	end(err)
	return l, err
}

type bucketOps struct {
	binding.Bucket
	b *bound
}

func (o *bucketOps) Put(ctx context.Context, key string, body io.Reader, opts binding.ObjectPutOptions) (*binding.ObjectInfo, error) {
	ctx, _, end := o.b.start(ctx, "put", trace.SpanKindClient)
	i, err := o.Bucket.Put(ctx, key, body, opts)
	end(err)
	return i, err
}

func (o *bucketOps) Get(ctx context.Context, key string, opts binding.ObjectGetOptions) (*binding.Object, error) {
	ctx, _, end := o.b.start(ctx, "get", trace.SpanKindClient)
	obj, err := o.Bucket.Get(ctx, key, opts)
	end(err)
	return obj, err
}

func (o *bucketOps) Head(ctx context.Context, key string) (*binding.ObjectInfo, error) {
	ctx, _, end := o.b.start(ctx, "head", trace.SpanKindClient)
	i, err := o.Bucket.Head(ctx, key)
	end(err)
	return i, err
}

func (o *bucketOps) Delete(ctx context.Context, keys ...string) error {
	ctx, _, end := o.b.start(ctx, "delete", trace.SpanKindClient)
	err := o.Bucket.Delete(ctx, keys...)
	end(err)
	return err
}

func (o *bucketOps) List(ctx context.Context, opts binding.ObjectListOptions) (*binding.ObjectList, error) {
	ctx, _, end := o.b.start(ctx, "list", trace.SpanKindClient)
	l, err := o.Bucket.List(ctx, opts)
	end(err)
	return l, err
}

type serviceOps struct {
	binding.Service
	b *bound
}

// Fetch calls the bound service in a client span whose traceparent the
// callee's request carries; in-process, the callee's invocation is its
// child through the context as well.
func (c *serviceOps) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	ctx, span, end := c.b.start(ctx, "fetch", trace.SpanKindClient,
		attribute.String("http.request.method", req.Method), attribute.String("url.path", req.URL.Path))
	if span != nil {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		Inject(ctx, req.Header)
	}
	resp, err := c.Service.Fetch(ctx, req)
	if resp != nil {
		span.setStatus(resp.StatusCode)
	}
	end(err)
	return resp, err
}

type producerOps struct {
	binding.Producer
	b *bound
}

// Send sends in a producer span; the queue stores its traceparent with
// each message (internal/queue calls InjectMap), so the consumer's
// invocation joins the sender's trace.
func (p *producerOps) Send(ctx context.Context, msgs []binding.Message) error {
	ctx, _, end := p.b.start(ctx, "send", trace.SpanKindProducer, attribute.Int("messaging.batch.message_count", len(msgs)))
	err := p.Producer.Send(ctx, msgs)
	end(err)
	return err
}

type fetchOps struct {
	binding.Fetcher
	b *bound
}

// Do makes an outbound request in a client span, with its traceparent;
// the request body counts as egress.
func (f *fetchOps) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	ctx, span, end := f.b.start(ctx, req.Method, trace.SpanKindClient,
		attribute.String("http.request.method", req.Method), attribute.String("url.full", req.URL.Redacted()), attribute.String("server.address", req.URL.Hostname()))
	if span != nil {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		Inject(ctx, req.Header)
	}
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &egressBody{ReadCloser: req.Body, ctx: ctx}
	}
	resp, err := f.Fetcher.Do(ctx, req)
	if resp != nil {
		span.setStatus(resp.StatusCode)
	}
	end(err)
	return resp, err
}

// egressBody counts an outbound request body as it is sent.
type egressBody struct {
	io.ReadCloser
	ctx context.Context
}

func (e *egressBody) Read(p []byte) (int, error) {
	n, err := e.ReadCloser.Read(p)
	AddEgress(e.ctx, int64(n))
	return n, err
}
