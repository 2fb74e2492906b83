package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/usage"
)

// Observability configures a node's metrics, traces and usage metering.
// The zero value records every trace on the node and exports nothing.
type Observability struct {
	// Off turns metrics, traces and usage metering off altogether; it
	// exists to measure what they cost (docs/performance.md).
	Off bool
	// NoTracing makes no spans; metrics and usage go on.
	NoTracing bool
	// TraceSample is the fraction of new traces recorded (0 means all).
	TraceSample float64
	// OTLPEndpoint exports spans to an OTLP/HTTP collector as well.
	OTLPEndpoint string
	// TraceBuffer bounds the spans kept for `wisp trace` (default 4096).
	TraceBuffer int
	// CPUSampleEvery measures the CPU time of at most one invocation of
	// each version per interval and estimates the others' (0: the
	// default, 10ms; negative: every invocation).
	CPUSampleEvery time.Duration
}

// nodeIDFile names this node in the usage it stores and the spans it
// makes; it lives as long as the data directory.
const nodeIDFile = "node.id"

func loadOrCreateNodeID(dir string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" || strings.ContainsAny(id, ".*> \t") {
			return "", fmt.Errorf("node id in %s is not valid (letters and digits)", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read node id: %w", err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate node id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

// startObserve opens the usage meter and the observer, before any
// version is loaded.
func (n *Node) startObserve(ctx context.Context) error {
	oc := n.cfg.Observe
	if oc.Off {
		return nil
	}
	id, err := loadOrCreateNodeID(n.cfg.DataDir)
	if err != nil {
		return err
	}
	if n.meter, err = usage.Open(ctx, n.store.JS, usage.Config{Node: id, Replicas: n.store.Replicas(), Logger: n.log}); err != nil {
		return err
	}
	n.obs, err = observe.New(observe.Config{
		TraceSample: oc.TraceSample, NoTracing: oc.NoTracing, OTLPEndpoint: oc.OTLPEndpoint,
		TraceBuffer: oc.TraceBuffer, CPUSampleEvery: oc.CPUSampleEvery, Node: id, Usage: n.meter, Logger: n.log,
	})
	if err != nil {
		return err
	}
	n.obs.WatchPools(n.poolStates, func() observe.BudgetState {
		b := n.budget.Snapshot()
		return observe.BudgetState{Instances: b.Instances, MaxInstances: b.MaxInstances, Memory: b.Memory, MaxMemory: b.MaxMemory, Waiting: b.Waiting}
	})
	n.obs.WatchQueues(n.queueStates)
	n.obs.Registry().MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wisp_log_entries_dropped_total", Help: "Service log entries lost because storage fell behind.", ConstLabels: prometheus.Labels{"reader": "store"}},
			func() float64 { return float64(n.logStore.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wisp_log_entries_dropped_total", Help: "Service log entries lost because storage fell behind.", ConstLabels: prometheus.Labels{"reader": "follower"}},
			func() float64 { return float64(n.logs.Dropped()) }),
	)
	return nil
}

// stopObserve exports what is buffered and stores the last usage.
func (n *Node) stopObserve() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.obs.Shutdown(ctx); err != nil {
		n.log.Warn("stop tracing", "error", err)
	}
	if n.meter != nil {
		if err := n.meter.Close(); err != nil {
			n.log.Warn("store usage at shutdown", "error", err)
		}
		n.meter = nil
	}
}

func (n *Node) poolStates() []observe.PoolState {
	s := n.snap.Load()
	out := make([]observe.PoolState, 0, len(s.Services))
	for _, svc := range s.Services {
		p := svc.Pool.Snapshot()
		out = append(out, observe.PoolState{
			Service: svc.Name, Version: svc.Version, Idle: p.Idle, Busy: p.Busy, Waiting: p.Waiting, Min: p.Min, Max: p.Max,
			ColdStarts: p.ColdStarts, Prewarmed: p.Prewarmed, Discarded: p.Discarded, Recycled: p.Recycled, Expired: p.Expired, Evicted: p.Evicted,
		})
	}
	return out
}

// Observer is the node's observability (nil when it is off).
func (n *Node) Observer() *observe.Observer { return n.obs }

// Metrics serves the node's Prometheus metrics.
func (n *Node) Metrics() http.Handler {
	if n.obs == nil {
		return nil
	}
	return n.obs.Handler()
}

// Trace returns what this node kept of a trace.
func (n *Node) Trace(ctx context.Context, id string) (*api.Trace, error) {
	rec := n.obs.Recent()
	if rec == nil {
		return nil, api.NotFound("tracing is off on this node")
	}
	spans, ok := rec.Trace(id)
	if !ok {
		return nil, api.NotFound(fmt.Sprintf("no trace %s is kept on this node (it keeps the most recent spans only; export them with --otlp-endpoint to keep more)", id))
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })
	t := &api.Trace{TraceID: spans[0].SpanContext.TraceID().String(), Spans: make([]api.Span, 0, len(spans))}
	for _, s := range spans {
		t.Spans = append(t.Spans, wireSpan(s))
	}
	return t, nil
}

func wireSpan(s *observe.Span) api.Span {
	out := api.Span{
		SpanID: s.SpanContext.SpanID().String(), Service: s.Service, Name: s.Name,
		Kind: s.Kind.String(), Start: s.Start, End: s.End, Error: s.Error, Status: s.Status,
	}
	if s.Parent.IsValid() {
		out.ParentID = s.Parent.SpanID().String()
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		out.Attributes = make(map[string]any, len(attrs))
		for _, kv := range attrs {
			out.Attributes[string(kv.Key)] = kv.Value.AsInterface()
		}
	}
	for _, l := range s.Links {
		out.Links = append(out.Links, api.SpanLink{TraceID: l.TraceID().String(), SpanID: l.SpanID().String()})
	}
	return out
}

// Traces summarizes the traces this node kept, newest first.
func (n *Node) Traces(ctx context.Context, service string, limit int) ([]api.TraceSummary, error) {
	rec := n.obs.Recent()
	if rec == nil {
		return nil, api.NotFound("tracing is off on this node")
	}
	var out []api.TraceSummary
	for _, s := range rec.Recent(limit, service) {
		out = append(out, api.TraceSummary{TraceID: s.TraceID, Root: s.Root, Start: s.Start, DurationMS: float64(s.Duration.Microseconds()) / 1000, Spans: s.Spans, Error: s.Error})
	}
	return out, nil
}

// Usage adds up the usage stored by every node plus this node's growth
// not stored yet.
func (n *Node) Usage(ctx context.Context, q usage.Query) (*api.UsageReport, error) {
	if n.meter == nil {
		return nil, api.NotFound("usage metering is off on this node")
	}
	rows, err := n.meter.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	rep := &api.UsageReport{Since: q.Since, Rows: make([]api.UsageRow, 0, len(rows)), CPUMeasured: observe.CPUMeasured}
	var total usage.Row
	for _, r := range rows {
		rep.Rows = append(rep.Rows, api.NewUsageRow(r))
		total.Add(r.Totals)
	}
	rep.Total = api.NewUsageRow(total)
	return rep, nil
}

// CPUMeasured reports whether this platform measures invocations' CPU
// time (Linux does).
func CPUMeasured() bool { return observe.CPUMeasured }

// bindingTargets maps each service binding to the service it calls and
// each queue binding to the queue it sends to (for span names).
func bindingTargets(m *manifest.Manifest) map[string]string {
	if len(m.Services)+len(m.Queues.Producers) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.Services)+len(m.Queues.Producers))
	for _, b := range m.Services {
		out[b.Binding] = b.Service
	}
	for _, p := range m.Queues.Producers {
		out[p.Binding] = p.Queue
	}
	return out
}

// queueStates is every queue the stream holds or this node's consumers
// counted, for the metrics.
func (n *Node) queueStates(ctx context.Context) ([]observe.QueueState, error) {
	t := n.trig
	if t == nil {
		return nil, nil
	}
	stats, err := t.queues.Stats(ctx)
	if err != nil {
		return nil, err
	}
	counts := t.queues.Counts()
	states := map[string]*observe.QueueState{}
	get := func(name string) *observe.QueueState {
		if states[name] == nil {
			states[name] = &observe.QueueState{Name: name}
		}
		return states[name]
	}
	now := time.Now()
	for name, s := range stats {
		q := get(name)
		q.Messages, q.Delayed, q.InFlight = s.Messages, s.Delayed, s.InFlight
		if s.Messages > 0 {
			if q.OldestAge, err = t.queues.OldestAge(ctx, name, now); err != nil {
				return nil, err
			}
		}
	}
	for name, c := range counts {
		q := get(name)
		q.Acked, q.Retried, q.DeadLettered, q.Dropped = c.Acked, c.Retried, c.DeadLettered, c.Dropped
	}
	out := make([]observe.QueueState, 0, len(states))
	for _, name := range sortedKeys(states) {
		out = append(out, *states[name])
	}
	return out, nil
}
