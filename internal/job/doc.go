// Package job owns the work the node does for a service on its own
// initiative, carried as durable jobs on the queue stream (subject
// wisp.job.SERVICE, one consumer shared by every node): asynchronous
// invocations (accepted with 202 and an id, run with the queues' retry
// and backoff, their outcome kept in the KV bucket wisp-invocations and
// optionally posted to an allowlisted callback URL) and cron ticks handed
// on by the cron scheduler.
package job
