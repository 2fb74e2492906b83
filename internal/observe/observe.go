package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wisp-run/wisp/internal/usage"
)

// DefaultTraceBuffer is how many spans a node keeps for `wisp trace`.
const DefaultTraceBuffer = 4096

// Config configures a node's observability.
type Config struct {
	// TraceSample is the fraction of new traces (requests that do not
	// arrive with a sampled traceparent) that are recorded, 0 to 1. 0
	// means DefaultTraceSample (all of them); NoTracing turns tracing off.
	TraceSample float64
	NoTracing   bool
	// OTLPEndpoint is the URL of an OTLP/HTTP collector
	// (http://host:4318, or with the full /v1/traces path). Empty: traces
	// are kept on the node only.
	OTLPEndpoint string
	// TraceBuffer bounds the spans kept on the node; the oldest traces
	// go first. Default DefaultTraceBuffer.
	TraceBuffer int
	// CPUSampleEvery: at most one invocation of each version per
	// CPUSampleEvery has its CPU time read from the thread's clock (the
	// version's first always); the others' is estimated from their
	// running time at the share the measured ones used (cpu.go). 0 means
	// DefaultCPUSampleEvery; negative measures every invocation.
	CPUSampleEvery time.Duration
	Node           string       // node id: service.instance.id of its spans
	Usage          *usage.Meter // where invocations' usage is counted; nil: not metered
	Logger         *slog.Logger
}

// DefaultTraceSample records every trace.
const DefaultTraceSample = 1.0

// Observer is one node's metrics registry, tracer and usage meter. Its
// zero value is not usable; a nil *Observer observes nothing.
type Observer struct {
	cfg    Config
	epoch  time.Time // monotonic origin of the CPU sampling intervals
	log    *slog.Logger
	reg    *prometheus.Registry
	m      *metrics
	recent *Recorder // nil when tracing is off
	// sampleBound decides which new traces are recorded: those whose
	// trace id's low 63 bits are below it (TraceSample × 2^63).
	sampleBound uint64
	export      sdktrace.SpanProcessor // batches to OTLP; nil without an endpoint
	resources   resources              // service@version → *resource.Resource
	statsMu     sync.Mutex
	versions    map[versionKey]*versionStats // loaded versions' counts (metrics.go)
	services    map[string]*serviceStats     // every service's counts
	shutdown    sync.Once
}

// New makes an Observer. With cfg.OTLPEndpoint it exports spans there
// (in batches, in the background) as well as keeping recent ones.
func New(cfg Config) (*Observer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TraceBuffer <= 0 {
		cfg.TraceBuffer = DefaultTraceBuffer
	}
	if cfg.TraceSample == 0 {
		cfg.TraceSample = DefaultTraceSample
	}
	if cfg.CPUSampleEvery == 0 {
		cfg.CPUSampleEvery = DefaultCPUSampleEvery
	}
	if cfg.TraceSample < 0 || cfg.TraceSample > 1 {
		return nil, fmt.Errorf("trace sample %v is not between 0 and 1", cfg.TraceSample)
	}
	o := &Observer{cfg: cfg, log: cfg.Logger, reg: prometheus.NewRegistry(), epoch: time.Now()}
	o.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.m = newMetrics(o.reg)
	o.versions, o.services = map[versionKey]*versionStats{}, map[string]*serviceStats{}
	o.reg.MustRegister(statsCollector{o})
	if !cfg.NoTracing {
		o.recent = NewRecorder(cfg.TraceBuffer)
		o.sampleBound = uint64(cfg.TraceSample * (1 << 63))
		if cfg.TraceSample >= 1 {
			o.sampleBound = 1 << 63
		}
		if cfg.OTLPEndpoint != "" {
			exp, err := newOTLPExporter(cfg.OTLPEndpoint)
			if err != nil {
				return nil, err
			}
			o.export = sdktrace.NewBatchSpanProcessor(exp)
		}
		o.reg.MustRegister(o.recent)
	}
	return o, nil
}

// Registry is where the node's metrics are registered; other packages'
// collectors (pools, queues) register here.
func (o *Observer) Registry() *prometheus.Registry { return o.reg }

// Handler serves the metrics in the Prometheus text format.
func (o *Observer) Handler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{ErrorLog: slogPromLogger{o.log}})
}

// Recent is the recorder of recent spans, nil when tracing is off.
func (o *Observer) Recent() *Recorder {
	if o == nil {
		return nil
	}
	return o.recent
}

// Tracing reports whether spans are made.
func (o *Observer) Tracing() bool { return o != nil && o.recent != nil }

// Shutdown exports what is buffered (OTLP) and stops the exporters.
func (o *Observer) Shutdown(ctx context.Context) error {
	if o == nil {
		return nil
	}
	var errs []error
	o.shutdown.Do(func() {
		if o.export != nil {
			if err := o.export.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop trace exporter: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}

type slogPromLogger struct{ l *slog.Logger }

func (s slogPromLogger) Println(v ...any) { s.l.Warn("serve metrics", "error", fmt.Sprint(v...)) }
