package wisp

import (
	"context"
	"time"
)

// Queue batches and cron ticks: register handlers from main, next to (or
// instead of) Serve.
//
//	wisp.HandleQueue(func(ctx context.Context, b *wisp.Batch) error {
//		for _, m := range b.Messages {
//			if err := process(m.Body); err != nil {
//				m.Retry(30) // again in 30 s
//				continue
//			}
//			m.Ack()
//		}
//		return nil
//	})
//	wisp.HandleScheduled(func(ctx context.Context, c *wisp.Controller) error {
//		return totalTheDay(c.ScheduledTime)
//	})
//
// The semantics are Workers': a message's own Ack or Retry counts first
// (the first call wins), then the batch's AckAll or RetryAll, then the
// handler's outcome: returning nil acknowledges the messages left, an
// error retries them (with backoff) and is their last error.

var (
	queueHandler     func(context.Context, *Batch) error
	scheduledHandler func(context.Context, *Controller) error
)

// HandleQueue makes fn the service's queue consumer: wisp calls it with
// each batch of the queue its manifest consumes ([[queues.consumers]]).
func HandleQueue(fn func(ctx context.Context, b *Batch) error) { queueHandler = fn }

// HandleScheduled makes fn the service's cron handler: wisp calls it for
// each tick of its manifest's [triggers] crons.
func HandleScheduled(fn func(ctx context.Context, c *Controller) error) { scheduledHandler = fn }

// Batch is a batch of queue messages.
type Batch struct {
	Queue    string
	Messages []*Message
}

// Message is one delivered message.
type Message struct {
	ID          string
	Timestamp   time.Time // when it was first sent
	Attempts    int       // deliveries, this one included
	ContentType string    // "json", "text" or "bytes"
	Body        []byte
	index       int
}

// Ack acknowledges the message: it will not be delivered again.
func (m *Message) Ack() { hQueueAck(int32(m.index)) }

// Retry asks for the message again, after delaySeconds (0: the
// consumer's retry delay or backoff), up to max_retries.
func (m *Message) Retry(delaySeconds int) { hQueueRetry(int32(m.index), int32(delaySeconds)) }

// AckAll acknowledges every message without a decision of its own.
func (b *Batch) AckAll() { hQueueAckAll() }

// RetryAll retries every message without a decision of its own.
func (b *Batch) RetryAll(delaySeconds int) { hQueueRetryAll(int32(delaySeconds)) }

// Controller is a cron tick (Workers' ScheduledController).
type Controller struct {
	Cron          string    // the expression that fired, as in the manifest
	ScheduledTime time.Time // when the tick was due
}

// NoRetry asks that a failed tick not be retried.
func (c *Controller) NoRetry() { hScheduledNoRetry() }
