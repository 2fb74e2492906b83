package observe

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wisp-run/wisp/internal/usage"
)

// durationBuckets span a hello world (100 µs) to the longest time limit.
var durationBuckets = [...]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// durationBounds are durationBuckets as durations, for counting.
var durationBounds = func() []time.Duration {
	out := make([]time.Duration, len(durationBuckets))
	for i, b := range durationBuckets {
		out[i] = time.Duration(b * float64(time.Second))
	}
	return out
}()

// Invocation metrics are counted into plain atomic counters that lie
// together in memory (versionStats, serviceStats) and become Prometheus
// metrics only when scraped (the Observer's Collect). The client
// library's own series cost an invocation some twenty atomic operations
// spread over a dozen separately allocated objects, each a cache line
// that the cores serving requests pass between them; these cost a few
// adds on three or four lines. docs/observability.md lists the metrics;
// keep it in step.

// versionStats are the counts of one loaded version (labels service and
// version), shared by every Service made for it and dropped with the last.
type versionStats struct {
	name, version string
	refs          int // Services using it; guarded by Observer.statsMu
	ran           atomic.Bool
	cpuNS         atomic.Uint64
	busyNS        atomic.Uint64
	inv           [numTriggers][numOutcomes]atomic.Uint64
	dur           [numTriggers]atomic.Pointer[durationHist]
}

// durationHist counts durations per bucket (not cumulative; the last is
// +Inf) and their sum.
type durationHist struct {
	counts [len(durationBuckets) + 1]atomic.Uint64
	sumNS  atomic.Uint64
}

func (h *durationHist) observe(d time.Duration) {
	i := 0
	for i < len(durationBounds) && d > durationBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNS.Add(uint64(max(d, 0)))
}

// serviceStats are the counts of a service across its versions (label
// service only): they keep counting through deploys and rollbacks.
type serviceStats struct {
	http      [6]atomic.Uint64 // by status class, statusClasses
	reqBytes  atomic.Uint64
	respBytes atomic.Uint64
	egress    atomic.Uint64
}

var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// metrics are the metric families: invocation ones collected from the
// stats above, binding ones through the client library's vectors
// (bindings.go).
type metrics struct {
	invocations   *prometheus.Desc
	duration      *prometheus.Desc
	cpuSeconds    *prometheus.Desc
	busySeconds   *prometheus.Desc
	httpResponses *prometheus.Desc
	requestBytes  *prometheus.Desc
	responseBytes *prometheus.Desc
	egressBytes   *prometheus.Desc
	bindingOps    *prometheus.CounterVec
	bindingDur    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	sv := []string{"service", "version"}
	m := &metrics{
		invocations: prometheus.NewDesc("wisp_invocations_total",
			"Invocations by trigger (http, invoke, service, queue, cron, async, event) and outcome (ok, error, timeout, crash, rejected, invalid).",
			[]string{"service", "version", "trigger", "outcome"}, nil),
		duration: prometheus.NewDesc("wisp_invocation_duration_seconds",
			"Time from an invocation's arrival (waiting for an instance included) to its end.",
			[]string{"service", "version", "trigger"}, nil),
		cpuSeconds: prometheus.NewDesc("wisp_invocation_cpu_seconds_total",
			"CPU time of the threads running guests (see docs/metrics.md for what it includes).", sv, nil),
		busySeconds: prometheus.NewDesc("wisp_instance_busy_seconds_total",
			"Time instances were held by invocations.", sv, nil),
		httpResponses: prometheus.NewDesc("wisp_http_responses_total",
			"HTTP responses of routed and invoked requests, by status class (2xx, 4xx, ...).", []string{"service", "code"}, nil),
		requestBytes: prometheus.NewDesc("wisp_http_request_bytes_total",
			"Request body bytes received for the service.", []string{"service"}, nil),
		responseBytes: prometheus.NewDesc("wisp_http_response_bytes_total",
			"Response body bytes sent to HTTP clients by the service.", []string{"service"}, nil),
		egressBytes: prometheus.NewDesc("wisp_egress_bytes_total",
			"Bytes that left the node for the service: response bodies to HTTP clients and outbound request bodies.", []string{"service"}, nil),
		bindingOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_binding_operations_total",
			Help: "Calls through bindings: type (kv, bucket, service, queue, fetch), operation, outcome (ok, error).",
		}, []string{"service", "type", "operation", "outcome"}),
		bindingDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wisp_binding_operation_duration_seconds",
			Help:    "Duration of calls through bindings.",
			Buckets: durationBuckets[:],
		}, []string{"service", "type", "operation"}),
	}
	reg.MustRegister(m.bindingOps, m.bindingDur)
	return m
}

// statsCollector exports the invocation stats of the loaded versions and
// of every service seen.
type statsCollector struct{ o *Observer }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	m := c.o.m
	for _, d := range []*prometheus.Desc{m.invocations, m.duration, m.cpuSeconds, m.busySeconds, m.httpResponses, m.requestBytes, m.responseBytes, m.egressBytes} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	o, m := c.o, c.o.m
	o.statsMu.Lock()
	versions := make([]*versionStats, 0, len(o.versions))
	for _, v := range o.versions {
		versions = append(versions, v)
	}
	services := make(map[string]*serviceStats, len(o.services))
	for name, s := range o.services {
		services[name] = s
	}
	o.statsMu.Unlock()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, v := range versions {
		for t := range numTriggers {
			for out := range numOutcomes {
				if n := v.inv[t][out].Load(); n > 0 {
					counter(m.invocations, float64(n), v.name, v.version, triggerNames[t], outcomeNames[out])
				}
			}
			h := v.dur[t].Load()
			if h == nil {
				continue
			}
			buckets := make(map[float64]uint64, len(durationBuckets))
			var count uint64
			for i, b := range durationBuckets {
				count += h.counts[i].Load()
				buckets[b] = count
			}
			count += h.counts[len(durationBuckets)].Load()
			ch <- prometheus.MustNewConstHistogram(m.duration, count, time.Duration(h.sumNS.Load()).Seconds(), buckets, v.name, v.version, triggerNames[t])
		}
		if v.ran.Load() {
			counter(m.cpuSeconds, time.Duration(v.cpuNS.Load()).Seconds(), v.name, v.version)
			counter(m.busySeconds, time.Duration(v.busyNS.Load()).Seconds(), v.name, v.version)
		}
	}
	for name, s := range services {
		for class, label := range statusClasses {
			if n := s.http[class].Load(); n > 0 {
				counter(m.httpResponses, float64(n), name, label)
			}
		}
		for _, c := range []struct {
			d *prometheus.Desc
			n uint64
		}{{m.requestBytes, s.reqBytes.Load()}, {m.responseBytes, s.respBytes.Load()}, {m.egressBytes, s.egress.Load()}} {
			if c.n > 0 {
				counter(c.d, float64(c.n), name)
			}
		}
	}
}

// Service is what observes one loaded version of a service: its counts
// (versionStats, and its service's serviceStats), its tracer and its
// usage counter. A nil *Service observes nothing.
type Service struct {
	o       *Observer
	name    string
	version string
	traced  bool // tracing is on
	usage   *usage.Counter
	stats   *versionStats
	svc     *serviceStats
	closed  sync.Once

	// CPU sampling (cpu.go): when (since the observer's epoch) the next
	// invocation is measured, and the CPU share of running time measured
	// on the sampled ones, in parts per million.
	cpuNext  atomic.Int64
	cpuShare atomic.Uint64
}

type versionKey struct{ name, version string }

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
	o.statsMu.Lock()
	k := versionKey{name, version}
	v := o.versions[k]
	if v == nil {
		v = &versionStats{name: name, version: version}
		o.versions[k] = v
	}
	v.refs++
	s.stats = v
	if s.svc = o.services[name]; s.svc == nil {
		s.svc = &serviceStats{}
		o.services[name] = s.svc
	}
	o.statsMu.Unlock()
	return s
}

// Name is the service observed.
func (s *Service) Name() string { return s.name }

// Close says the version is unloaded and nothing runs on it any more:
// its usage is stored a last time and, once no other Service counts for
// the same version, its per-version series are dropped (their counts stay
// in the service's other series and in usage).
func (s *Service) Close() {
	if s == nil {
		return
	}
	s.closed.Do(func() {
		if s.usage != nil {
			s.usage.Close()
		}
		o := s.o
		o.statsMu.Lock()
		if s.stats.refs--; s.stats.refs == 0 {
			delete(o.versions, versionKey{s.name, s.version})
		}
		o.statsMu.Unlock()
	})
}

// count records an ended invocation in the version's counts.
func (s *Service) count(t Trigger, out outcome, d time.Duration) {
	v := s.stats
	v.inv[t][out].Add(1)
	h := v.dur[t].Load()
	if h == nil {
		v.dur[t].CompareAndSwap(nil, &durationHist{})
		h = v.dur[t].Load()
	}
	h.observe(d)
}

// countRun records the time an invocation held an instance and its CPU
// time.
func (s *Service) countRun(wall, cpu time.Duration) {
	v := s.stats
	if !v.ran.Load() {
		v.ran.Store(true)
	}
	v.busyNS.Add(uint64(max(wall, 0)))
	v.cpuNS.Add(uint64(max(cpu, 0)))
}

// countHTTP records an HTTP response and its bytes.
func (s *Service) countHTTP(status int, received, sent int64) {
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	s.svc.http[class].Add(1)
	if received > 0 {
		s.svc.reqBytes.Add(uint64(received))
	}
	if sent > 0 {
		s.svc.respBytes.Add(uint64(sent))
		s.addEgress(sent)
	}
}

func (s *Service) addEgress(n int64) {
	s.svc.egress.Add(uint64(n))
	if s.usage != nil {
		s.usage.AddEgress(n)
	}
}
