package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/queue"
)

// QueueControl is what the queue endpoints drive; a Control that
// implements it gets them.
type QueueControl interface {
	Queues(ctx context.Context) ([]QueueInfo, error)
	PeekQueue(ctx context.Context, name string, limit int) ([]queue.Peeked, error)
	SendQueue(ctx context.Context, name string, msgs []binding.Message) ([]queue.Sent, error)
	RedriveQueue(ctx context.Context, from, to string, limit int) (int, error)
}

// InvocationControl reads asynchronous invocations; a Control that
// implements it gets GET /v1/invocations/{id}.
type InvocationControl interface {
	Invocation(ctx context.Context, id string) (*job.Invocation, error)
}

// QueueInfo describes a queue: what it holds and who uses it.
type QueueInfo struct {
	Name     string `json:"name"`
	Messages uint64 `json:"messages"`  // stored, not yet acknowledged (in flight included)
	InFlight int    `json:"in_flight"` // being handled now
	Delayed  uint64 `json:"delayed"`   // waiting for their delivery time
	// Consumer is the service consuming the queue, if any, and
	// DeadLetterQueue where its consumer sends what fails.
	Consumer        string   `json:"consumer,omitempty"`
	DeadLetterQueue string   `json:"dead_letter_queue,omitempty"`
	Producers       []string `json:"producers"` // services bound to send to it
}

// SendRequest is the body of POST /v1/queues/{queue}/messages.
type SendRequest struct {
	Messages []SendMessage `json:"messages"`
}

// SendMessage is one message to send. Body is any JSON value for
// content_type "json" (the default), a string for "text", and a base64
// string for "bytes".
type SendMessage struct {
	Body         json.RawMessage `json:"body"`
	ContentType  string          `json:"content_type,omitempty"`
	DelaySeconds *int            `json:"delay_seconds,omitempty"`
}

// SendResult lists the ids of the messages sent.
type SendResult struct {
	Queue    string       `json:"queue"`
	Messages []queue.Sent `json:"messages"`
}

// RedriveRequest is the body of POST /v1/queues/{queue}/redrive.
type RedriveRequest struct {
	To    string `json:"to"`
	Limit int    `json:"limit,omitempty"` // 0: all
}

// RedriveResult says how many messages moved.
type RedriveResult struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Moved int    `json:"moved"`
}

// Conflict is a request that collides with what another service holds.
func Conflict(code, msg string) *Error { return &Error{http.StatusConflict, code, msg} }

// CodeQueueConflict: a queue another service already consumes.
const CodeQueueConflict = "queue_conflict"

// triggerRoutes registers the queue and invocation endpoints that c
// supports.
func (h *Handler) triggerRoutes(c Control) {
	if qc, ok := c.(QueueControl); ok {
		h.handle("GET /v1/queues", func(w http.ResponseWriter, r *http.Request) error {
			list, err := qc.Queues(r.Context())
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, list)
			return nil
		})
		h.handle("GET /v1/queues/{queue}/messages", func(w http.ResponseWriter, r *http.Request) error { return peekQueue(qc, w, r) })
		h.handle("POST /v1/queues/{queue}/messages", func(w http.ResponseWriter, r *http.Request) error { return sendQueue(qc, w, r) })
		h.handle("POST /v1/queues/{queue}/redrive", func(w http.ResponseWriter, r *http.Request) error { return redriveQueue(qc, w, r) })
	}
	if ic, ok := c.(InvocationControl); ok {
		h.handle("GET /v1/invocations/{id}", func(w http.ResponseWriter, r *http.Request) error {
			inv, err := ic.Invocation(r.Context(), r.PathValue("id"))
			if errors.Is(err, job.ErrNotFound) {
				return NotFound(err.Error())
			}
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, inv)
			return nil
		})
	}
}

func queueName(r *http.Request) (string, error) {
	name := r.PathValue("queue")
	if !queue.ValidName(name) {
		return "", BadRequest(fmt.Sprintf("%q is not a valid queue name (lowercase letters, digits, '-' and '_')", name))
	}
	return name, nil
}

// queueError turns a refused send or redrive into a 400.
func queueError(err error) error {
	if errors.Is(err, queue.ErrInvalid) {
		return BadRequest(err.Error())
	}
	return err
}

func peekQueue(qc QueueControl, w http.ResponseWriter, r *http.Request) error {
	name, err := queueName(r)
	if err != nil {
		return err
	}
	limit := 10
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > queue.MaxPeek {
			return BadRequest(fmt.Sprintf("limit %q must be a number from 1 to %d", s, queue.MaxPeek))
		}
	}
	ps, err := qc.PeekQueue(r.Context(), name, limit)
	if err != nil {
		return queueError(err)
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

func decodeBody(r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("request body: " + err.Error())
	}
	return nil
}

func sendQueue(qc QueueControl, w http.ResponseWriter, r *http.Request) error {
	name, err := queueName(r)
	if err != nil {
		return err
	}
	var req SendRequest
	if err := decodeBody(r, 2*queue.MaxBatchBytes+64<<10, &req); err != nil {
		return err
	}
	msgs := make([]binding.Message, len(req.Messages))
	for i, m := range req.Messages {
		if msgs[i], err = m.message(); err != nil {
			return BadRequest(fmt.Sprintf("messages[%d]: %v", i, err))
		}
	}
	sent, err := qc.SendQueue(r.Context(), name, msgs)
	if err != nil {
		return queueError(err)
	}
	writeJSON(w, http.StatusCreated, SendResult{Queue: name, Messages: sent})
	return nil
}

// message decodes the body for its content type.
func (m SendMessage) message() (binding.Message, error) {
	out := binding.Message{ContentType: m.ContentType, DelaySeconds: -1}
	if m.DelaySeconds != nil {
		if *m.DelaySeconds < 0 {
			return out, fmt.Errorf("delay_seconds %d must not be negative", *m.DelaySeconds)
		}
		out.DelaySeconds = *m.DelaySeconds
	}
	if len(m.Body) == 0 {
		return out, errors.New("body is required")
	}
	switch m.ContentType {
	case "", queue.ContentJSON:
		out.ContentType, out.Body = queue.ContentJSON, m.Body
	case queue.ContentText:
		var s string
		if err := json.Unmarshal(m.Body, &s); err != nil {
			return out, errors.New(`body of a "text" message must be a JSON string`)
		}
		out.Body = []byte(s)
	case queue.ContentBytes:
		var s string
		if err := json.Unmarshal(m.Body, &s); err != nil {
			return out, errors.New(`body of a "bytes" message must be a base64 string`)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return out, fmt.Errorf(`body of a "bytes" message must be base64: %v`, err)
		}
		out.Body = b
	default:
		return out, fmt.Errorf("content_type %q is not one of \"json\", \"text\", \"bytes\"", m.ContentType)
	}
	return out, nil
}

func redriveQueue(qc QueueControl, w http.ResponseWriter, r *http.Request) error {
	from, err := queueName(r)
	if err != nil {
		return err
	}
	var req RedriveRequest
	if err := decodeBody(r, 1<<16, &req); err != nil {
		return err
	}
	if req.To == "" {
		return BadRequest(`"to" (the queue to move the messages to) is required`)
	}
	if req.Limit < 0 {
		return BadRequest(fmt.Sprintf("limit %d must not be negative", req.Limit))
	}
	moved, err := qc.RedriveQueue(r.Context(), from, req.To, req.Limit)
	if err != nil {
		return queueError(err)
	}
	writeJSON(w, http.StatusOK, RedriveResult{From: from, To: req.To, Moved: moved})
	return nil
}
