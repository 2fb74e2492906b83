package observe

import "github.com/prometheus/client_golang/prometheus"

// PoolState is one loaded version's instance pool at one moment (the
// node converts dispatch's snapshots: this package does not import
// dispatch, which imports it).
type PoolState struct {
	Service, Version                 string
	Idle, Busy, Waiting, Min, Max    int
	ColdStarts, Prewarmed, Discarded uint64
	Recycled, Expired, Evicted       uint64
}

// BudgetState is the node-wide instance budget at one moment.
type BudgetState struct {
	Instances, MaxInstances int // MaxInstances 0: no limit
	Memory, MaxMemory       int64
	Waiting                 int
}

// WatchPools exports pools' and the budget's gauges and counters, read
// when metrics are scraped (nothing is counted on the invocation path).
func (o *Observer) WatchPools(pools func() []PoolState, budget func() BudgetState) {
	if o == nil {
		return
	}
	o.reg.MustRegister(&poolCollector{pools: pools, budget: budget})
}

var (
	sv         = []string{"service", "version"}
	instDesc   = prometheus.NewDesc("wisp_instances", "Instances alive, by state (idle, busy).", []string{"service", "version", "state"}, nil)
	waitDesc   = prometheus.NewDesc("wisp_instance_waiters", "Invocations waiting for an instance.", sv, nil)
	limitDesc  = prometheus.NewDesc("wisp_instance_limit", "The pool's min_instances and max_instances.", []string{"service", "version", "limit"}, nil)
	poolCounts = []struct {
		desc *prometheus.Desc
		get  func(PoolState) uint64
	}{
		{prometheus.NewDesc("wisp_cold_starts_total", "Instances started for an invocation that found none idle.", sv, nil), func(p PoolState) uint64 { return p.ColdStarts }},
		{prometheus.NewDesc("wisp_instances_prewarmed_total", "Instances started ahead of traffic (deploy, min_instances).", sv, nil), func(p PoolState) uint64 { return p.Prewarmed }},
		{prometheus.NewDesc("wisp_instances_discarded_total", "Instances thrown away after a failure (trap, timeout, crash).", sv, nil), func(p PoolState) uint64 { return p.Discarded }},
		{prometheus.NewDesc("wisp_instances_recycled_total", "Instances replaced after --recycle-after requests or memory growth.", sv, nil), func(p PoolState) uint64 { return p.Recycled }},
		{prometheus.NewDesc("wisp_instances_expired_total", "Idle instances stopped by the keep-alive (scale to zero).", sv, nil), func(p PoolState) uint64 { return p.Expired }},
		{prometheus.NewDesc("wisp_instances_evicted_total", "Instances stopped to give the node's budget to another service.", sv, nil), func(p PoolState) uint64 { return p.Evicted }},
	}
	budgetInst     = prometheus.NewDesc("wisp_budget_instances", "Instances of all services counted against the node's budget.", nil, nil)
	budgetInstMax  = prometheus.NewDesc("wisp_budget_instances_limit", "The node's --max-instances.", nil, nil)
	budgetMem      = prometheus.NewDesc("wisp_budget_memory_bytes", "Memory reserved by instances (limits.memory_mb each).", nil, nil)
	budgetMemMax   = prometheus.NewDesc("wisp_budget_memory_limit_bytes", "The node's --max-memory-mb, in bytes (0: none).", nil, nil)
	budgetWaitDesc = prometheus.NewDesc("wisp_budget_waiters", "Invocations waiting for a unit of the node's budget.", nil, nil)
)

type poolCollector struct {
	pools  func() []PoolState
	budget func() BudgetState
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{instDesc, waitDesc, limitDesc, budgetInst, budgetInstMax, budgetMem, budgetMemMax, budgetWaitDesc} {
		ch <- d
	}
	for _, pc := range poolCounts {
		ch <- pc.desc
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, lvs ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lvs...)
	}
	for _, p := range c.pools() {
		gauge(instDesc, float64(p.Idle), p.Service, p.Version, "idle")
		gauge(instDesc, float64(p.Busy), p.Service, p.Version, "busy")
		gauge(waitDesc, float64(p.Waiting), p.Service, p.Version)
		gauge(limitDesc, float64(p.Min), p.Service, p.Version, "min")
		gauge(limitDesc, float64(p.Max), p.Service, p.Version, "max")
		for _, pc := range poolCounts {
			ch <- prometheus.MustNewConstMetric(pc.desc, prometheus.CounterValue, float64(pc.get(p)), p.Service, p.Version)
		}
	}
	b := c.budget()
	gauge(budgetInst, float64(b.Instances))
	gauge(budgetInstMax, float64(b.MaxInstances))
	gauge(budgetMem, float64(b.Memory))
	gauge(budgetMemMax, float64(b.MaxMemory))
	gauge(budgetWaitDesc, float64(b.Waiting))
}
