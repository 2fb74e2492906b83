// Package usage owns usage metering, the pay-per-use view of a node: per
// service and per UTC day, invocations, wall time, CPU time, memory in
// GB-seconds and egress bytes. Each loaded version counts into a Counter
// (atomic adds on the invocation path); a Meter adds up the counters'
// growth every second and stores it on a JetStream KV bucket, one key per
// day, service and node, so a restart keeps it and a cluster's nodes never
// write the same key. Reads add up the keys of the days asked for, with
// this node's not yet stored growth included.
package usage
