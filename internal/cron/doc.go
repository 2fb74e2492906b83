// Package cron owns cron triggers: parsing standard 5-field expressions
// (minute hour day-of-month month day-of-week, UTC), computing their next
// run, and a Scheduler that fires each tick once across every node sharing
// one NATS: a tick is claimed through a JetStream KV record and handed on
// as a durable job, so a node that dies mid-run loses nothing, and a tick
// missed while every node was down is fired once on start, never twice.
// Time comes from a Clock so that tests can drive it.
package cron
