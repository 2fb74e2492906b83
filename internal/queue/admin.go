package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stats are a queue's counts as the stream sees them.
type Stats struct {
	Messages uint64 // stored and not yet acknowledged (in flight included)
	InFlight int    // delivered to a handler and not yet settled
	Delayed  uint64 // waiting for their delivery time
	Consumer bool   // a durable consumer exists
}

// Stats counts every queue that holds messages or has a consumer, by
// queue name.
func (q *Queues) Stats(ctx context.Context) (map[string]*Stats, error) {
	out := map[string]*Stats{}
	get := func(name string) *Stats {
		if out[name] == nil {
			out[name] = &Stats{}
		}
		return out[name]
	}
	info, err := q.stream.Info(ctx, jetstream.WithSubjectFilter("wisp.>"))
	if err != nil {
		return nil, fmt.Errorf("read queue stream: %w", err)
	}
	for subj, n := range info.State.Subjects {
		if name, ok := strings.CutPrefix(subj, queuePrefix); ok {
			get(name).Messages += n
		} else if rest, ok := strings.CutPrefix(subj, "wisp.qd."); ok {
			name, _, _ := strings.Cut(rest, ".")
			get(name).Delayed += n
		}
	}
	names := q.stream.ListConsumers(ctx)
	for ci := range names.Info() {
		name, ok := strings.CutPrefix(ci.Name, "q-")
		if !ok {
			continue
		}
		s := get(name)
		s.Consumer = true
		s.InFlight = ci.NumAckPending
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("list queue consumers: %w", err)
	}
	return out, nil
}

// Peeked is a stored message, read without consuming it.
type Peeked struct {
	Seq         uint64    `json:"seq"`
	ID          string    `json:"id"`
	Timestamp   time.Time `json:"timestamp"`
	ContentType string    `json:"content_type"`
	// Attempts counts deliveries recorded on the stored copy (earlier
	// attempts of a retried message); a delivery in progress is not
	// counted.
	Attempts int `json:"attempts"`
	// Body is the body as text for "json" and "text" messages;
	// BodyBase64 holds any other body.
	Body       string      `json:"body,omitempty"`
	BodyBase64 []byte      `json:"body_base64,omitempty"`
	Size       int         `json:"size"`
	DeadLetter *DeadLetter `json:"dead_letter,omitempty"`
}

// MaxPeek bounds how many messages one peek returns.
const MaxPeek = 1000

// Peek returns up to limit of queue's ready messages, oldest first,
// without consuming them.
func (q *Queues) Peek(ctx context.Context, queue string, limit int) ([]Peeked, error) {
	if !ValidName(queue) {
		return nil, invalid("%q is not a valid queue name", queue)
	}
	limit = min(max(limit, 1), MaxPeek)
	out := []Peeked{}
	err := q.each(ctx, QueueSubject(queue), func(m *jetstream.RawStreamMsg) bool {
		out = append(out, peeked(m))
		return len(out) < limit
	})
	return out, err
}

// each calls fn for the stored messages on subj in order until fn
// returns false.
func (q *Queues) each(ctx context.Context, subj string, fn func(*jetstream.RawStreamMsg) bool) error {
	seq := uint64(1)
	for {
		m, err := q.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", subj, err)
		}
		if !fn(m) {
			return nil
		}
		seq = m.Sequence + 1
	}
}

func peeked(m *jetstream.RawStreamMsg) Peeked {
	h := m.Header
	p := Peeked{Seq: m.Sequence, ID: h.Get(hdrID), ContentType: contentType(h.Get(hdrContentType)), Size: len(m.Data), DeadLetter: deadLetterOf(h)}
	if p.ID == "" {
		p.ID = strconv.FormatUint(m.Sequence, 10)
	}
	p.Attempts, _ = strconv.Atoi(h.Get(hdrAttempts))
	if ms, err := strconv.ParseInt(h.Get(hdrSent), 10, 64); err == nil {
		p.Timestamp = time.UnixMilli(ms).UTC()
	} else {
		p.Timestamp = m.Time.UTC()
	}
	if (p.ContentType == ContentJSON || p.ContentType == ContentText) && utf8.Valid(m.Data) {
		p.Body = string(m.Data)
	} else {
		p.BodyBase64 = m.Data
	}
	return p
}

// Redrive moves up to limit (0: all) of from's ready messages to to, each
// with a fresh count of attempts, and returns how many moved. A message
// is stored on to before it is removed from from, so a failure part way
// loses none (a message may at worst be on both).
func (q *Queues) Redrive(ctx context.Context, from, to string, limit int) (int, error) {
	switch {
	case !ValidName(from):
		return 0, invalid("%q is not a valid queue name", from)
	case !ValidName(to):
		return 0, invalid("%q is not a valid queue name", to)
	case from == to:
		return 0, invalid("cannot redrive %s into itself", from)
	}
	moved := 0
	var failed error
	err := q.each(ctx, QueueSubject(from), func(m *jetstream.RawStreamMsg) bool {
		nm := nats.NewMsg(QueueSubject(to))
		nm.Header = copyHeaders(m.Header)
		for _, k := range []string{hdrAttempts, hdrDeadQueue, hdrDeadError, hdrDeadAttempts} {
			nm.Header.Del(k)
		}
		if nm.Header.Get(hdrID) == "" {
			nm.Header.Set(hdrID, newID())
		}
		if nm.Header.Get(hdrSent) == "" {
			nm.Header.Set(hdrSent, strconv.FormatInt(m.Time.UnixMilli(), 10))
		}
		nm.Data = m.Data
		// The id makes a redrive that is repeated (after a failure part
		// way) store each message once.
		key := fmt.Sprintf("redrive-%s-%d", from, m.Sequence)
		if _, err := q.js.PublishMsg(ctx, nm, jetstream.WithMsgID(key)); err != nil {
			failed = fmt.Errorf("redrive %s to %s: %w", from, to, err)
			return false
		}
		if err := q.stream.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			failed = fmt.Errorf("redrive %s to %s: remove message %d: %w", from, to, m.Sequence, err)
			return false
		}
		moved++
		return limit <= 0 || moved < limit
	})
	if err == nil {
		err = failed
	}
	return moved, err
}
