// Package dispatch owns running invocations on instances. Per service
// version a Pool reuses idle instances (warmest first), keeps min_instances
// warm, starts new ones on demand up to max_instances, makes callers wait
// (bounded) beyond that, stops idle instances after a keep-alive (scale to
// zero), recycles worn instances, throws away one whose guest trapped or
// overran, and hands its callers to the next version when it is retired.
// A Budget bounds the instances of all pools of a node and shares them
// fairly. Pool.Do runs any kind of invocation; Stats and Snapshot are the
// counters and gauges that listings and metrics read.
package dispatch
