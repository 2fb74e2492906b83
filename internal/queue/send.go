package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/observe"
)

// Limits on what is sent (Cloudflare Queues' limits).
const (
	MaxMessageBytes  = 128 << 10
	MaxBatchMessages = 100
	MaxBatchBytes    = 256 << 10
	MaxDelaySeconds  = 12 * 60 * 60
)

// ErrInvalid marks a send refused for what it asked; nothing was sent.
var ErrInvalid = errors.New("invalid queue message")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ValidName reports whether s can name a queue: lowercase letters, digits,
// '-' and '_', 1 to 63 characters, starting and ending with a letter or
// digit (the manifest's rule).
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// Sent is a message as stored: its id.
type Sent struct {
	ID string `json:"id"`
}

// Send stores msgs on queue: all of them are checked first, then each is
// stored and acknowledged by JetStream before Send returns. A message
// whose DelaySeconds is negative gets defaultDelay. Sending is not
// atomic: when storing one fails, those before it stay sent.
func (q *Queues) Send(ctx context.Context, queue string, msgs []binding.Message, defaultDelay int) ([]Sent, error) {
	if !ValidName(queue) {
		return nil, invalid("%q is not a valid queue name (lowercase letters, digits, '-' and '_')", queue)
	}
	if err := checkSend(msgs, defaultDelay); err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]Sent, len(msgs))
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for i, m := range msgs {
		delay := m.DelaySeconds
		if delay < 0 {
			delay = defaultDelay
		}
		id := newID()
		out[i].ID = id
		nm := nats.NewMsg(QueueSubject(queue))
		nm.Data = m.Body
		nm.Header.Set(hdrID, id)
		nm.Header.Set(hdrSent, strconv.FormatInt(now.UnixMilli(), 10))
		nm.Header.Set(hdrContentType, contentType(m.ContentType))
		observe.InjectMap(ctx, nm.Header) // the consumer joins the sender's trace
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(id)}
		if delay > 0 {
			opts = append(opts, scheduleAt(nm, now, time.Duration(delay)*time.Second, id)...)
		}
		if len(msgs) == 1 {
			if _, err := q.js.PublishMsg(ctx, nm, opts...); err != nil {
				return nil, fmt.Errorf("send to queue %s: %w", queue, err)
			}
			return out, nil
		}
		f, err := q.js.PublishMsgAsync(nm, opts...)
		if err != nil {
			return nil, fmt.Errorf("send to queue %s: message %d: %w", queue, i, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return nil, fmt.Errorf("send to queue %s: message %d: %w", queue, i, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("send to queue %s: %w", queue, ctx.Err())
		}
	}
	return out, nil
}

// scheduleAt turns nm into a message schedule that the server delivers to
// nm's subject after delay (rounded up to a whole second, as schedules
// are).
func scheduleAt(nm *nats.Msg, now time.Time, delay time.Duration, key string) []jetstream.PublishOpt {
	target := nm.Subject
	nm.Subject = delayedSubject(target, key)
	at := now.Add(delay)
	if at.Truncate(time.Second) != at {
		at = at.Truncate(time.Second).Add(time.Second)
	}
	return []jetstream.PublishOpt{jetstream.WithScheduleAt(at), jetstream.WithScheduleTarget(target)}
}

func contentType(ct string) string {
	if ct == "" {
		return ContentJSON
	}
	return ct
}

func checkSend(msgs []binding.Message, defaultDelay int) error {
	switch {
	case len(msgs) == 0:
		return invalid("no messages to send")
	case len(msgs) > MaxBatchMessages:
		return invalid("%d messages in one batch; at most %d may be sent at once", len(msgs), MaxBatchMessages)
	}
	total := 0
	for i, m := range msgs {
		which := ""
		if len(msgs) > 1 {
			which = fmt.Sprintf("message %d: ", i)
		}
		if len(m.Body) > MaxMessageBytes {
			return invalid("%sbody is %d bytes; a queue message may be at most %d bytes (128 KiB)", which, len(m.Body), MaxMessageBytes)
		}
		total += len(m.Body)
		switch contentType(m.ContentType) {
		case ContentJSON, ContentText, ContentBytes:
		case "v8":
			return invalid("%scontentType \"v8\" (V8 serialization) is not supported by wisp; use \"json\", \"text\" or \"bytes\"", which)
		default:
			return invalid("%scontentType %q is not one of \"json\", \"text\", \"bytes\"", which, m.ContentType)
		}
		delay := m.DelaySeconds
		if delay < 0 {
			delay = defaultDelay
		}
		if delay > MaxDelaySeconds {
			return invalid("%sdelaySeconds %d is more than %d (12 hours)", which, delay, MaxDelaySeconds)
		}
	}
	if total > MaxBatchBytes {
		return invalid("the batch is %d bytes; a batch may be at most %d bytes (256 KiB)", total, MaxBatchBytes)
	}
	return nil
}

// Producer is a queue binding: what env.ORDERS is to a worker.
type Producer struct {
	q     *Queues
	queue string
	delay int // the binding's delivery_delay, seconds
}

var _ binding.Producer = (*Producer)(nil)

// Producer makes the binding that sends to queue, with defaultDelay
// seconds for messages that do not set their own.
func (q *Queues) Producer(queue string, defaultDelay int) *Producer {
	return &Producer{q: q, queue: queue, delay: defaultDelay}
}

// Send implements binding.Producer.
func (p *Producer) Send(ctx context.Context, msgs []binding.Message) error {
	_, err := p.q.Send(ctx, p.queue, msgs, p.delay)
	return err
}

// Queue is the queue the producer sends to.
func (p *Producer) Queue() string { return p.queue }
