package queue

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/wisp-run/wisp/internal/observe"
)

// Headers wisp keeps on a stored message.
const (
	hdrID          = "Wisp-Id"
	hdrSent        = "Wisp-Sent" // unix milliseconds of the first send
	hdrContentType = "Wisp-Content-Type"
	hdrAttempts    = "Wisp-Attempts" // deliveries before this copy was stored
	// On a dead letter: where it came from, why, after how many attempts.
	hdrDeadQueue    = "Wisp-Dead-Queue"
	hdrDeadError    = "Wisp-Dead-Error"
	hdrDeadAttempts = "Wisp-Dead-Attempts"
)

// Content types of a message body (the Workers ones, except "v8").
const (
	ContentJSON  = "json"
	ContentText  = "text"
	ContentBytes = "bytes"
)

// Message is one delivered message.
type Message struct {
	ID          string
	Timestamp   time.Time // when it was first sent
	ContentType string
	Body        []byte
	// Attempts counts deliveries, this one included (1 the first time).
	Attempts int
	// DeadLetter describes why the message was dead-lettered, when it is
	// on a dead-letter queue.
	DeadLetter *DeadLetter
	// Sender is the span that sent the message (its W3C traceparent),
	// invalid when it was sent outside a trace.
	Sender trace.SpanContext

	raw     jetstream.Msg
	subject string
	seq     uint64 // stream sequence of this stored copy
}

// DeadLetter is what a dead-lettered message remembers.
type DeadLetter struct {
	Queue    string `json:"queue"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// Batch is what a consumer's handler gets.
type Batch struct {
	Queue    string // "" for jobs
	Messages []*Message
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decode reads a delivered message.
func decode(m jetstream.Msg) *Message {
	h := m.Headers()
	out := &Message{ID: h.Get(hdrID), ContentType: h.Get(hdrContentType), Body: m.Data(), raw: m, subject: m.Subject()}
	prior, _ := strconv.Atoi(h.Get(hdrAttempts))
	md, err := m.Metadata()
	if err == nil {
		out.seq = md.Sequence.Stream
		out.Attempts = prior + int(md.NumDelivered)
		if out.ID == "" {
			out.ID = strconv.FormatUint(md.Sequence.Stream, 10)
		}
	} else {
		out.Attempts = prior + 1
	}
	out.Timestamp = sentTime(h, md)
	out.DeadLetter = deadLetterOf(h)
	out.Sender = observe.SpanContextOf(h)
	if out.ContentType == "" {
		out.ContentType = ContentBytes
	}
	return out
}

func sentTime(h nats.Header, md *jetstream.MsgMetadata) time.Time {
	if ms, err := strconv.ParseInt(h.Get(hdrSent), 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	if md != nil {
		return md.Timestamp.UTC()
	}
	return time.Time{}
}

func deadLetterOf(h nats.Header) *DeadLetter {
	q := h.Get(hdrDeadQueue)
	if q == "" {
		return nil
	}
	n, _ := strconv.Atoi(h.Get(hdrDeadAttempts))
	return &DeadLetter{Queue: q, Error: h.Get(hdrDeadError), Attempts: n}
}

// headerText makes s safe for a header value: one line, bounded.
func headerText(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// copyHeaders copies wisp's headers of m (not the server's), and the
// sender's trace context, which a retried or dead-lettered copy keeps.
func copyHeaders(src nats.Header) nats.Header {
	out := nats.Header{}
	for k, vs := range src {
		if strings.HasPrefix(k, "Wisp-") || k == "Traceparent" || k == "Tracestate" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}
