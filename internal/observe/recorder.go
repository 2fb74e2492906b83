package observe

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// MaxSpansPerTrace bounds what one trace keeps, so that one busy trace
// cannot push every other out.
const MaxSpansPerTrace = 1000

// Recorder keeps the most recent spans on the node, whole traces at a
// time: when it holds more than its bound, the traces that started
// longest ago go first. It is the span processor behind `wisp trace`.
type Recorder struct {
	max int

	mu      sync.Mutex
	traces  map[trace.TraceID]*kept
	byReq   map[string]trace.TraceID
	order   []trace.TraceID // oldest first
	spans   int
	evicted uint64 // traces dropped to stay within the bound
	dropped uint64 // spans not kept because their trace was full

	spansDesc, evictedDesc, droppedDesc *prometheus.Desc
}

type kept struct {
	spans []sdktrace.ReadOnlySpan
	reqs  []string
}

var _ sdktrace.SpanProcessor = (*Recorder)(nil)

// NewRecorder keeps up to max spans.
func NewRecorder(max int) *Recorder {
	return &Recorder{
		max: max, traces: map[trace.TraceID]*kept{}, byReq: map[string]trace.TraceID{},
		spansDesc:   prometheus.NewDesc("wisp_trace_spans_kept", "Spans kept on the node for `wisp trace`.", nil, nil),
		evictedDesc: prometheus.NewDesc("wisp_trace_traces_evicted_total", "Traces dropped from the node's buffer to make room for newer ones.", nil, nil),
		droppedDesc: prometheus.NewDesc("wisp_trace_spans_dropped_total", "Spans not kept because their trace already had the most a trace keeps.", nil, nil),
	}
}

// OnStart implements sdktrace.SpanProcessor.
func (r *Recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd keeps s.
func (r *Recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	id := s.SpanContext().TraceID()
	var req string
	for _, kv := range s.Attributes() {
		if kv.Key == "wisp.request_id" {
			req = kv.Value.AsString()
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.traces[id]
	if k == nil {
		k = &kept{}
		r.traces[id] = k
		r.order = append(r.order, id)
	}
	if len(k.spans) >= MaxSpansPerTrace {
		r.dropped++
		return
	}
	k.spans = append(k.spans, s)
	r.spans++
	if req != "" {
		k.reqs = append(k.reqs, req)
		r.byReq[req] = id
	}
	for r.spans > r.max && len(r.order) > 1 {
		r.evictOldest()
	}
}

func (r *Recorder) evictOldest() {
	id := r.order[0]
	r.order[0] = trace.TraceID{}
	r.order = r.order[1:]
	k := r.traces[id]
	if k == nil {
		return
	}
	delete(r.traces, id)
	r.spans -= len(k.spans)
	for _, req := range k.reqs {
		if r.byReq[req] == id {
			delete(r.byReq, req)
		}
	}
	r.evicted++
}

// Shutdown implements sdktrace.SpanProcessor.
func (r *Recorder) Shutdown(context.Context) error { return nil }

// ForceFlush implements sdktrace.SpanProcessor.
func (r *Recorder) ForceFlush(context.Context) error { return nil }

// Trace returns the kept spans of a trace, named by its trace id (32 hex
// digits) or by the request id of one of its invocations.
func (r *Recorder) Trace(id string) ([]sdktrace.ReadOnlySpan, bool) {
	if r == nil {
		return nil, false
	}
	id = strings.ToLower(strings.TrimSpace(id))
	r.mu.Lock()
	defer r.mu.Unlock()
	var k *kept
	if tid, err := trace.TraceIDFromHex(id); err == nil {
		k = r.traces[tid]
	}
	if k == nil {
		if tid, ok := r.byReq[id]; ok {
			k = r.traces[tid]
		}
	}
	if k == nil {
		return nil, false
	}
	return append([]sdktrace.ReadOnlySpan(nil), k.spans...), true
}

// Summary describes one kept trace.
type Summary struct {
	TraceID  string
	Root     string // the service of its first span, and that span's name
	Start    time.Time
	Duration time.Duration // from its first span's start to its last span's end
	Spans    int
	Error    bool // a span ended with an error status
}

// Recent summarizes up to limit kept traces, newest first, optionally
// only those with a span of service.
func (r *Recorder) Recent(limit int, service string) []Summary {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Summary
	for i := len(r.order) - 1; i >= 0 && len(out) < limit; i-- {
		k := r.traces[r.order[i]]
		if k == nil || len(k.spans) == 0 {
			continue
		}
		if service != "" && !hasService(k.spans, service) {
			continue
		}
		out = append(out, summarize(r.order[i], k.spans))
	}
	return out
}

func hasService(spans []sdktrace.ReadOnlySpan, service string) bool {
	for _, s := range spans {
		if ServiceOf(s) == service {
			return true
		}
	}
	return false
}

func summarize(id trace.TraceID, spans []sdktrace.ReadOnlySpan) Summary {
	sorted := append([]sdktrace.ReadOnlySpan(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartTime().Before(sorted[j].StartTime()) })
	first := sorted[0]
	end := first.EndTime()
	sum := Summary{TraceID: id.String(), Root: ServiceOf(first) + " " + first.Name(), Start: first.StartTime(), Spans: len(spans)}
	for _, s := range spans {
		if s.EndTime().After(end) {
			end = s.EndTime()
		}
		if s.Status().Code == codes.Error {
			sum.Error = true
		}
	}
	sum.Duration = end.Sub(sum.Start)
	return sum
}

// ServiceOf is the wisp service a span belongs to (its resource's
// service.name).
func ServiceOf(s sdktrace.ReadOnlySpan) string {
	if res := s.Resource(); res != nil {
		if v, ok := res.Set().Value("service.name"); ok {
			return v.AsString()
		}
	}
	return ""
}

// Describe implements prometheus.Collector.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.spansDesc
	ch <- r.evictedDesc
	ch <- r.droppedDesc
}

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	spans, evicted, dropped := r.spans, r.evicted, r.dropped
	r.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(r.spansDesc, prometheus.GaugeValue, float64(spans))
	ch <- prometheus.MustNewConstMetric(r.evictedDesc, prometheus.CounterValue, float64(evicted))
	ch <- prometheus.MustNewConstMetric(r.droppedDesc, prometheus.CounterValue, float64(dropped))
}
