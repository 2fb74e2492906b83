package runtime

import (
	"context"
	"time"
)

// The event handlers other than fetch. These declarations mirror the ones
// issue #3 (the JS runtime) is adding to this package; when #3 lands its
// declarations replace this file.

// Handler names, as a worker exports them.
const (
	EventFetch     = "fetch"
	EventScheduled = "scheduled"
	EventQueue     = "queue"
)

// HandlerSet is implemented by instances that can say which events their
// code handles (a JS worker without `scheduled` cannot take cron ticks).
type HandlerSet interface {
	Handles(event string) bool
}

// ScheduledEvent is one cron tick (Workers' ScheduledController).
type ScheduledEvent struct {
	ID            string    // invocation id, shown in logs
	Cron          string    // the schedule that fired, as written in the manifest
	ScheduledTime time.Time // when it was due
}

// Scheduler is implemented by instances that handle cron ticks. A failed
// tick returns an *Error; its NoRetry is set when the handler called
// controller.noRetry().
type Scheduler interface {
	Scheduled(ctx context.Context, ev *ScheduledEvent) error
}

// QueueBatch is a batch of queue messages (Workers' MessageBatch).
type QueueBatch struct {
	ID       string // invocation id, shown in logs
	Queue    string
	Messages []QueueMessage
}

// QueueMessage is one delivered message.
type QueueMessage struct {
	ID          string
	Timestamp   time.Time // when it was sent
	Body        []byte
	ContentType string // as binding.Message: "json", "text", "bytes" or "v8"
	Attempts    int    // 1 on first delivery
}

// QueueResult says what becomes of each message of a batch, index for
// index with QueueBatch.Messages. Workers semantics: an explicit
// message.ack()/retry() wins (the first call on a message counts), then
// batch.ackAll()/retryAll() (the first call counts), then the outcome of
// the handler: success acks, failure retries.
type QueueResult struct {
	Messages []MessageOutcome
}

// MessageOutcome is the fate of one message.
type MessageOutcome struct {
	Retry        bool // false: acknowledged
	DelaySeconds int  // for a retry, 0 unless the worker asked for a delay
}

// QueueConsumer is implemented by instances that handle queue batches.
// The result is always complete, even when the handler failed (err is
// then an *Error and the result retries what was not acknowledged).
type QueueConsumer interface {
	Queue(ctx context.Context, b *QueueBatch) (*QueueResult, error)
}
