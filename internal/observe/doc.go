// Package observe owns seeing what services do, beyond their logs: the
// node's Prometheus metrics, OpenTelemetry traces (one span per
// invocation, child spans for binding calls, W3C traceparent in and out,
// OTLP export, the recent traces kept on the node for `wisp trace`) and
// the per-invocation measurements that usage metering adds up (wall time,
// CPU time, memory, egress).
//
// An invocation is observed from where it is begun (the gateway for an
// HTTP request, the node for a queue batch or a cron tick, the pool itself
// for a service-binding call) to where it ends; the pool that runs it says
// when the guest starts and stops running, on the goroutine that runs it,
// so that its CPU time can be measured (see cpu_linux.go). Everything is
// nil-safe: a nil *Observer, *Service or *Invocation observes nothing, so
// tests and benchmarks can run without it.
package observe
