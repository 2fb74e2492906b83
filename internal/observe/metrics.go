package observe

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wisp-run/wisp/internal/usage"
)

// durationBuckets span a hello world (100 µs) to the longest time limit.
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// metrics are the metric families invocations count into. docs/metrics.md
// lists them; keep it in step.
type metrics struct {
	invocations   *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	cpuSeconds    *prometheus.CounterVec
	busySeconds   *prometheus.CounterVec
	httpResponses *prometheus.CounterVec
	requestBytes  *prometheus.CounterVec
	responseBytes *prometheus.CounterVec
	egressBytes   *prometheus.CounterVec
	bindingOps    *prometheus.CounterVec
	bindingDur    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	sv := []string{"service", "version"}
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_invocations_total",
			Help: "Invocations by trigger (http, invoke, service, queue, cron, async, event) and outcome (ok, error, timeout, crash, rejected, invalid).",
		}, []string{"service", "version", "trigger", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wisp_invocation_duration_seconds",
			Help:    "Time from an invocation's arrival (waiting for an instance included) to its end.",
			Buckets: durationBuckets,
		}, []string{"service", "version", "trigger"}),
		cpuSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_invocation_cpu_seconds_total",
			Help: "CPU time of the threads running guests (see docs/metrics.md for what it includes).",
		}, sv),
		busySeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_instance_busy_seconds_total",
			Help: "Time instances were held by invocations.",
		}, sv),
		httpResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_http_responses_total",
			Help: "HTTP responses of routed and invoked requests, by status class (2xx, 4xx, ...).",
		}, []string{"service", "code"}),
		requestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_http_request_bytes_total",
			Help: "Request body bytes received for the service.",
		}, []string{"service"}),
		responseBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_http_response_bytes_total",
			Help: "Response body bytes sent to HTTP clients by the service.",
		}, []string{"service"}),
		egressBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_egress_bytes_total",
			Help: "Bytes that left the node for the service: response bodies to HTTP clients and outbound request bodies.",
		}, []string{"service"}),
		bindingOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_binding_operations_total",
			Help: "Calls through bindings: type (kv, bucket, service, queue, fetch), operation, outcome (ok, error).",
		}, []string{"service", "type", "operation", "outcome"}),
		bindingDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wisp_binding_operation_duration_seconds",
			Help:    "Duration of calls through bindings.",
			Buckets: durationBuckets,
		}, []string{"service", "type", "operation"}),
	}
	reg.MustRegister(m.invocations, m.duration, m.cpuSeconds, m.busySeconds, m.httpResponses,
		m.requestBytes, m.responseBytes, m.egressBytes, m.bindingOps, m.bindingDur)
	return m
}

// Service is what observes one loaded version of a service: its metric
// series (made on first use and cached, so counting is an atomic add),
// its tracer and its usage counter. A nil *Service observes nothing.
type Service struct {
	o       *Observer
	name    string
	version string
	traced  bool // tracing is on
	usage   *usage.Counter

	inv         [numTriggers][numOutcomes]atomic.Pointer[prometheus.Counter]
	dur         [numTriggers]atomic.Pointer[prometheus.Observer]
	http        [6]atomic.Pointer[prometheus.Counter]
	cpuSeconds  atomic.Pointer[prometheus.Counter]
	busySeconds atomic.Pointer[prometheus.Counter]
	reqBytes    atomic.Pointer[prometheus.Counter]
	respBytes   atomic.Pointer[prometheus.Counter]
	egress      atomic.Pointer[prometheus.Counter]

	// CPU sampling (cpu.go): invocations started, and the CPU share of
	// running time measured on the sampled ones, in parts per million.
	cpuTick  atomic.Uint64
	cpuShare atomic.Uint64
}

// Service makes what observes one loaded version of a service whose
// instances reserve memoryMB each. Close it when the version is unloaded.
func (o *Observer) Service(name, version string, memoryMB int) *Service {
	if o == nil {
		return nil
	}
	s := &Service{o: o, name: name, version: version, traced: o.Tracing()}
	s.cpuShare.Store(ppm)
	if o.cfg.Usage != nil {
		s.usage = o.cfg.Usage.Counter(name, memoryMB)
	}
	return s
}

// Name is the service observed.
func (s *Service) Name() string { return s.name }

// Close says the version is unloaded and nothing runs on it any more:
// its usage is stored a last time and its per-version series are dropped
// (their counts stay in the service's other series and in usage).
func (s *Service) Close() {
	if s == nil {
		return
	}
	if s.usage != nil {
		s.usage.Close()
	}
	l := prometheus.Labels{"service": s.name, "version": s.version}
	m := s.o.m
	m.invocations.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.cpuSeconds.Delete(l)
	m.busySeconds.Delete(l)
}

// counter returns the cached series of vec for the service (and the
// version, for vecs labelled by it), making it on first use.
func (s *Service) counter(p *atomic.Pointer[prometheus.Counter], vec *prometheus.CounterVec) prometheus.Counter {
	if c := p.Load(); c != nil {
		return *c
	}
	var c prometheus.Counter
	if vec == s.o.m.cpuSeconds || vec == s.o.m.busySeconds {
		c = vec.WithLabelValues(s.name, s.version)
	} else {
		c = vec.WithLabelValues(s.name)
	}
	p.CompareAndSwap(nil, &c)
	return *p.Load()
}

func (s *Service) invocationCounter(t Trigger, out outcome) prometheus.Counter {
	p := &s.inv[t][out]
	if c := p.Load(); c != nil {
		return *c
	}
	c := s.o.m.invocations.WithLabelValues(s.name, s.version, triggerNames[t], outcomeNames[out])
	p.CompareAndSwap(nil, &c)
	return *p.Load()
}

func (s *Service) durationObserver(t Trigger) prometheus.Observer {
	p := &s.dur[t]
	if o := p.Load(); o != nil {
		return *o
	}
	o := s.o.m.duration.WithLabelValues(s.name, s.version, triggerNames[t])
	p.CompareAndSwap(nil, &o)
	return *p.Load()
}

var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (s *Service) httpCounter(status int) prometheus.Counter {
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	p := &s.http[class]
	if c := p.Load(); c != nil {
		return *c
	}
	c := s.o.m.httpResponses.WithLabelValues(s.name, statusClasses[class])
	p.CompareAndSwap(nil, &c)
	return *p.Load()
}

func (s *Service) addEgress(n int64) {
	s.counter(&s.egress, s.o.m.egressBytes).Add(float64(n))
	if s.usage != nil {
		s.usage.AddEgress(n)
	}
}
