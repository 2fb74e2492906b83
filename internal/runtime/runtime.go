package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
)

// Request is an HTTP request handed to a guest. The body has been read in
// full (bounded by the gateway) before an instance is taken.
type Request struct {
	ID     string // request id, shown in logs and error responses
	Method string
	URL    string // absolute URL as the client sent it, no prefix stripped
	Header http.Header
	Body   []byte
}

// Instance is one sandboxed, running copy of a version. It handles one
// invocation at a time; the pool guarantees that.
type Instance interface {
	// Fetch handles an HTTP request and writes the response to w. An error
	// returned before anything was written leaves the response to the
	// caller; errors are *Error when the guest is at fault.
	Fetch(ctx context.Context, req *Request, w http.ResponseWriter) error
	// Close releases the instance. It is never called during Fetch.
	Close()
}

// Module is a version's code, loaded and ready to instantiate.
type Module interface {
	NewInstance(ctx context.Context) (Instance, error)
	Close()
}

// Spec is what an engine needs to load a version.
type Spec struct {
	Service  string
	Version  string
	Manifest *manifest.Manifest
	Code     []byte
	Env      *binding.Env // what the code can reach; never nil
	Logs     logs.Sink
}

// Engine loads code of one kind ("js", "wasm").
type Engine interface {
	Load(ctx context.Context, spec Spec) (Module, error)
}

// ErrorKind classifies guest failures.
type ErrorKind int

// Kinds of guest failure.
const (
	// Exception: the handler threw or rejected. The instance stays usable.
	Exception ErrorKind = iota
	// BadResponse: the handler returned something that is not a Response.
	BadResponse
	// Timeout: the invocation overran its deadline and was interrupted.
	Timeout
	// Crash: the guest trapped, exhausted a limit or broke its sandbox's
	// invariants; its state cannot be trusted.
	Crash
)

// Error is a failure of guest code.
type Error struct {
	Kind    ErrorKind
	Message string
	Stack   string
	// NoRetry is set when the guest asked that the event not be retried
	// (controller.noRetry() in a scheduled handler).
	NoRetry bool
}

func (e *Error) Error() string { return e.Message }

// Discard reports whether the instance that returned e must be thrown away.
func (e *Error) Discard() bool { return e.Kind == Timeout || e.Kind == Crash }

// Status is the HTTP status a caller gets for e.
func (e *Error) Status() int {
	if e.Kind == Timeout {
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// Errorf makes an *Error.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// MustDiscard reports whether err means the instance must not be reused.
// Errors that are not *Error (host failures) discard too: we cannot know
// what state the guest was left in.
func MustDiscard(err error) bool {
	if err == nil {
		return false
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Discard()
	}
	return true
}

// Lingerer is implemented by instances whose invocation may go on after
// Fetch returned: a JS worker's ctx.waitUntil work continues once the
// response is sent, so the client (and its keep-alive connection) is not
// held. A pool calls Linger right after Fetch; a nil channel means the
// instance is free. Otherwise the instance stays busy until the channel
// yields the outcome of that work (nil, or an error for which MustDiscard
// says whether to throw the instance away).
type Lingerer interface {
	Linger() <-chan error
}

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
