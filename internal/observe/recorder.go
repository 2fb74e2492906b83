package observe

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// Recorder keeps the most recent spans on the node in a ring of values:
// recording one is a copy under a lock, the oldest span is overwritten,
// and nothing of the invocation or its context is kept alive. Reads
// (`wisp trace`) scan the ring; they are rare, the recording is on every
// invocation's path.
type Recorder struct {
	mu          sync.Mutex
	ring        []Span
	next        int    // where the next span goes
	total       uint64 // spans ever recorded
	spansDesc   *prometheus.Desc
	droppedDesc *prometheus.Desc
}

// NewRecorder keeps the last max spans.
func NewRecorder(max int) *Recorder {
	return &Recorder{
		ring:        make([]Span, max),
		spansDesc:   prometheus.NewDesc("wisp_trace_spans_kept", "Spans kept on the node for `wisp trace`.", nil, nil),
		droppedDesc: prometheus.NewDesc("wisp_trace_spans_overwritten_total", "Spans overwritten in the node's trace buffer by newer ones.", nil, nil),
	}
}

// record keeps s.
func (r *Recorder) record(s *Span) {
	r.mu.Lock()
	r.ring[r.next] = *s
	r.next++
	if r.next == len(r.ring) {
		r.next = 0
	}
	r.total++
	r.mu.Unlock()
}

// each calls fn for the kept spans, newest first, until it returns false.
func (r *Recorder) each(fn func(*Span) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.ring)
	for i := 1; i <= n; i++ {
		s := &r.ring[(r.next-i+n)%n]
		if !s.SpanContext.IsValid() || !fn(s) {
			return
		}
	}
}

// Trace returns the kept spans of a trace, named by its trace id (32 hex
// digits) or by the request id of one of its invocations.
func (r *Recorder) Trace(id string) ([]*Span, bool) {
	if r == nil {
		return nil, false
	}
	id = strings.ToLower(strings.TrimSpace(id))
	tid, err := trace.TraceIDFromHex(id)
	if err != nil {
		found := false
		r.each(func(s *Span) bool {
			if s.isCall && s.call.reqID == id {
				tid, found = s.SpanContext.TraceID(), true
				return false
			}
			return true
		})
		if !found {
			return nil, false
		}
	}
	var out []*Span
	r.each(func(s *Span) bool {
		if s.SpanContext.TraceID() == tid {
			c := *s
			out = append(out, &c)
		}
		return true
	})
	return out, len(out) > 0
}

// Summary describes one kept trace.
type Summary struct {
	TraceID  string
	Root     string // the service and name of its earliest kept span
	Start    time.Time
	Duration time.Duration // from its earliest span's start to its last span's end
	Spans    int
	Error    bool // a span ended with an error
}

// Recent summarizes up to limit kept traces, most recently active first,
// optionally only those with a span of service.
func (r *Recorder) Recent(limit int, service string) []Summary {
	if r == nil {
		return nil
	}
	type acc struct {
		Summary
		end  time.Time
		seen bool // has a span of service
	}
	byID := map[trace.TraceID]*acc{}
	var order []trace.TraceID
	r.each(func(s *Span) bool {
		id := s.SpanContext.TraceID()
		a := byID[id]
		if a == nil {
			a = &acc{Summary: Summary{TraceID: id.String(), Start: s.Start}, end: s.End}
			byID[id] = a
			order = append(order, id)
		}
		a.Spans++
		if !s.Start.After(a.Start) {
			a.Start, a.Root = s.Start, s.Service+" "+s.Name
		}
		if s.End.After(a.end) {
			a.end = s.End
		}
		a.Error = a.Error || s.Error
		a.seen = a.seen || service == "" || s.Service == service
		return true
	})
	var out []Summary
	for _, id := range order {
		a := byID[id]
		if !a.seen {
			continue
		}
		a.Duration = a.end.Sub(a.Start)
		out = append(out, a.Summary)
		if len(out) == limit {
			break
		}
	}
	return out
}

// Describe implements prometheus.Collector.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.spansDesc
	ch <- r.droppedDesc
}

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	total, size := r.total, uint64(len(r.ring))
	r.mu.Unlock()
	kept := min(total, size)
	ch <- prometheus.MustNewConstMetric(r.spansDesc, prometheus.GaugeValue, float64(kept))
	ch <- prometheus.MustNewConstMetric(r.droppedDesc, prometheus.CounterValue, float64(total-kept))
}
