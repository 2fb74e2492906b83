package job

import (
	"errors"
	"net/http"
	"time"
)

// Kinds of job.
const (
	KindInvoke   = "invoke"
	KindCron     = "cron"
	KindCallback = "callback"
)

// Job is one unit of work, as stored on the queue stream.
type Job struct {
	Kind    string `json:"kind"`
	Service string `json:"service"`
	// An asynchronous invocation (and its callback).
	Invocation string   `json:"invocation,omitempty"`
	Request    *Request `json:"request,omitempty"`
	// A cron tick.
	Cron          string    `json:"cron,omitempty"`
	ScheduledTime time.Time `json:"scheduled_time,omitzero"`
}

// Request is the HTTP request of an asynchronous invocation.
type Request struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
}

// Invocation statuses.
const (
	StatusQueued    = "queued"    // accepted, not started
	StatusRunning   = "running"   // an attempt is under way
	StatusRetrying  = "retrying"  // an attempt failed; another will follow
	StatusCompleted = "completed" // the service answered (any status below 500)
	StatusFailed    = "failed"    // every attempt failed: dead-lettered with the last error
)

// Invocation is an asynchronous invocation's record and outcome.
type Invocation struct {
	ID       string    `json:"id"`
	Service  string    `json:"service"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Response is the service's answer on the last attempt that got one.
	Response *Response `json:"response,omitempty"`
	// Error is why the last attempt failed.
	Error    string    `json:"error,omitempty"`
	Callback *Callback `json:"callback,omitempty"`
}

// Terminal reports whether the invocation will not run again.
func (inv *Invocation) Terminal() bool {
	return inv.Status == StatusCompleted || inv.Status == StatusFailed
}

// Response is a service's answer, as kept.
type Response struct {
	Status int         `json:"status"`
	Header http.Header `json:"headers"`
	// Body is the body when it is UTF-8 text; BodyBase64 holds any other.
	Body       string `json:"body,omitempty"`
	BodyBase64 []byte `json:"body_base64,omitempty"`
	// Truncated is set when the body was longer than MaxResponseBytes.
	Truncated bool `json:"truncated,omitempty"`
}

// Callback statuses.
const (
	CallbackPending   = "pending"
	CallbackDelivered = "delivered"
	CallbackFailed    = "failed"
)

// Callback is where the outcome is posted, and how that went.
type Callback struct {
	URL      string `json:"url"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Limits.
const (
	// MaxRequestBytes bounds an asynchronous request's body: it travels
	// in a JetStream message, and NATS servers refuse messages over 1 MiB
	// by default.
	MaxRequestBytes = 256 << 10
	// MaxResponseBytes bounds the response body kept in the outcome.
	MaxResponseBytes = 256 << 10
)

// Errors of Accept, each naming what is wrong.
var (
	ErrTooLarge           = errors.New("request body too large for an asynchronous invocation")
	ErrCallbackNotAllowed = errors.New("callback URL not allowed")
	ErrNotFound           = errors.New("no such invocation")
)
