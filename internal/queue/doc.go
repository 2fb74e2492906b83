// Package queue owns queues on JetStream: one work-queue stream
// (WISP_QUEUES) holds every queue as a subject, so thousands of queues
// cost one stream. It sends messages (now, or later through JetStream
// message schedules), runs consumers shared by every node (one durable
// pull consumer per queue, so each message is handled once across the
// cluster), batches deliveries, retries what a handler did not
// acknowledge with backoff, dead-letters after max_retries with the last
// error, and lists, peeks and redrives queues for the admin API. The same
// machinery carries the node's own jobs (asynchronous invocations and
// cron ticks) on job subjects.
package queue
