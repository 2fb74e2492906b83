package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/registry"
	"github.com/wisp-run/wisp/internal/runtime"
)

// Running services for events other than a routed HTTP request: queue
// batches, cron ticks and asynchronous invocations. Each runs on the
// service's active version, through its pool and under its time limit.

func invocationID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// active is the loaded active version of service: job.ErrNoService when
// the service does not exist, a retryable error when it exists but this
// node has not loaded it.
func (n *Node) active(ctx context.Context, service string) (*dispatch.Service, error) {
	if svc := n.snap.Load().Services[service]; svc != nil {
		return svc, nil
	}
	if _, err := n.reg.Service(ctx, service); errors.Is(err, registry.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", job.ErrNoService, service)
	}
	return nil, fmt.Errorf("service %s is not loaded on this node", service)
}

func timeout(svc *dispatch.Service) time.Duration {
	return time.Duration(svc.Manifest.Limits.TimeoutMS) * time.Millisecond
}

// noHandler is the error for code that does not export the handler an
// event needs.
func noHandler(event, example string) *runtime.Error {
	return runtime.Errorf(runtime.Exception, "the service has no %s handler: %s", event, example)
}

const (
	queueExample     = "a JS worker exports `async queue(batch, env, ctx) { … }` in its default export; a Go wasm service calls wisp.HandleQueue in main"
	scheduledExample = "a JS worker exports `async scheduled(controller, env, ctx) { … }` in its default export; a Go wasm service calls wisp.HandleScheduled in main"
)

// handlerError says why inst cannot take event, or nil: its runtime must
// implement the event's interface and, when it can tell, its code must
// export the handler.
func handlerError(inst runtime.Instance, event, example string) error {
	var ok bool
	switch event {
	case runtime.EventQueue:
		_, ok = inst.(runtime.QueueConsumer)
	case runtime.EventScheduled:
		_, ok = inst.(runtime.Scheduler)
	}
	if !ok {
		return runtime.Errorf(runtime.Exception, "this kind of service cannot take %s events (a CGI wasm module cannot; a module built on the wisp ABI exports wisp_%s)", event, event)
	}
	if hs, can := inst.(runtime.HandlerSet); can && !hs.Handles(event) {
		return noHandler(event, example)
	}
	return nil
}

// checkHandlers refuses a version whose manifest asks for queue batches
// or cron ticks its code cannot take, before it is stored.
func checkHandlers(ctx context.Context, svc *dispatch.Service) error {
	m := svc.Manifest
	var need [][2]string
	if len(m.Queues.Consumers) > 0 {
		need = append(need, [2]string{runtime.EventQueue, queueExample})
	}
	if len(m.Triggers.Crons) > 0 {
		need = append(need, [2]string{runtime.EventScheduled, scheduledExample})
	}
	if len(need) == 0 {
		return nil
	}
	// Checking the code is not an invocation: neither metered nor traced.
	return svc.Pool.Run(observe.Skip(ctx), func(_ context.Context, inst runtime.Instance) error {
		for _, n := range need {
			if err := handlerError(inst, n[0], n[1]); err != nil {
				key := "[[queues.consumers]]"
				if n[0] == runtime.EventScheduled {
					key = "[triggers] crons"
				}
				// A plain error would throw the instance away; it is fine.
				return &runtime.Error{Kind: runtime.Exception, Message: fmt.Sprintf("wisp.toml has %s but %v", key, err)}
			}
		}
		return nil
	})
}

// queueHandler runs a batch of a queue on service's active version.
func (n *Node) queueHandler(service string) queue.Handler {
	return func(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
		svc, err := n.active(ctx, service)
		if err != nil {
			return nil, err
		}
		rb := &runtime.QueueBatch{ID: invocationID(), Queue: b.Queue, Messages: make([]runtime.QueueMessage, len(b.Messages))}
		for i, m := range b.Messages {
			rb.Messages[i] = runtime.QueueMessage{ID: m.ID, Timestamp: m.Timestamp, Body: m.Body, ContentType: m.ContentType, Attempts: m.Attempts}
		}
		// The batch's invocation joins the first sender's trace and links
		// every sender's span.
		senders := make([]trace.SpanContext, len(b.Messages))
		for i, m := range b.Messages {
			senders[i] = m.Sender
		}
		bctx, links := observe.Batch(ctx, senders)
		bctx, inv := svc.Pool.Observer().BeginLinked(bctx, observe.Queue, "queue "+b.Queue, rb.ID, links)
		defer inv.End()
		start := time.Now()
		tctx, cancel := context.WithTimeout(bctx, timeout(svc))
		defer cancel()
		var res *runtime.QueueResult
		err = svc.Pool.Run(tctx, func(ictx context.Context, inst runtime.Instance) error {
			if err := handlerError(inst, runtime.EventQueue, queueExample); err != nil {
				return err
			}
			var qerr error
			res, qerr = inst.(runtime.QueueConsumer).Queue(ictx, rb)
			return qerr
		})
		decisions := make([]queue.Decision, len(b.Messages))
		retried := 0
		if res != nil {
			for i := range decisions {
				if i >= len(res.Messages) {
					break
				}
				o := res.Messages[i]
				decisions[i].Verdict = queue.Ack
				if o.Retry {
					retried++
					decisions[i] = queue.Decision{Verdict: queue.Retry, Delay: time.Duration(o.DelaySeconds) * time.Second, DelaySet: o.DelaySeconds > 0}
				}
			}
		}
		n.eventLog(svc, rb.ID, inv.TraceID(), err, fmt.Sprintf("queue %s: %d message%s, %d acked, %d retried", b.Queue, len(b.Messages), plural(len(b.Messages)), len(b.Messages)-retried, retried), start)
		return decisions, err
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// eventLog writes the summary of one event (and its failure) to the
// service's logs.
func (n *Node) eventLog(svc *dispatch.Service, id, traceID string, err error, what string, start time.Time) {
	took := time.Since(start).Round(10 * time.Microsecond)
	if err != nil {
		n.sink.Write(logs.Entry{Time: time.Now(), Service: svc.Name, Version: svc.Version, RequestID: id, TraceID: traceID, Level: logs.Error, Message: err.Error()})
		what += " (failed)"
	}
	n.sink.Write(logs.Entry{Time: time.Now(), Service: svc.Name, Version: svc.Version, RequestID: id, TraceID: traceID, Level: logs.Info, Kind: logs.KindRequest, Message: fmt.Sprintf("%s %s", what, took)})
}

// dropped records, in the service's logs, a message dropped after its
// last retry on a consumer without a dead-letter queue.
func (n *Node) dropped(service, q string) queue.DropFunc {
	return func(m *queue.Message, lastErr string) {
		n.sink.Write(logs.Entry{Time: time.Now(), Service: service, Level: logs.Error,
			Message: fmt.Sprintf("queue %s: message %s dropped after %d attempts (no dead_letter_queue): %s", q, m.ID, m.Attempts, lastErr)})
	}
}

// jobServices runs jobs on this node's services.
type jobServices struct{ n *Node }

var _ job.Services = jobServices{}

func (s jobServices) Fetch(ctx context.Context, service string, req *runtime.Request, w http.ResponseWriter) error {
	svc, err := s.n.active(ctx, service)
	if err != nil {
		return err
	}
	// The run is its own invocation, in the trace of the request that
	// was accepted (its traceparent was stored with the job).
	ictx, inv := svc.Pool.Observer().Begin(observe.Extract(ctx, req.Header), observe.Async, req.Method, req.ID)
	inv.SetHTTP(req.Method, pathOnly(req.URL))
	start := time.Now()
	tctx, cancel := context.WithTimeout(ictx, timeout(svc))
	defer cancel()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	err = svc.Pool.Fetch(tctx, req, sw)
	code := sw.status
	status := fmt.Sprint(code)
	if err != nil {
		status, code = "error", http.StatusInternalServerError
	}
	inv.EndHTTP(code, int64(len(req.Body)), sw.written, time.Now())
	n := s.n
	n.eventLog(svc, req.ID, inv.TraceID(), err, fmt.Sprintf("%s %s %s (async, attempt %s)", req.Method, pathOnly(req.URL), status, req.Header.Get("X-Wisp-Attempt")), start)
	return err
}

func (s jobServices) Scheduled(ctx context.Context, service string, ev *runtime.ScheduledEvent) error {
	svc, err := s.n.active(ctx, service)
	if err != nil {
		return err
	}
	cctx, inv := svc.Pool.Observer().Begin(ctx, observe.Cron, "cron "+ev.Cron, ev.ID)
	defer inv.End()
	start := time.Now()
	tctx, cancel := context.WithTimeout(cctx, timeout(svc))
	defer cancel()
	err = svc.Pool.Run(tctx, func(ictx context.Context, inst runtime.Instance) error {
		if err := handlerError(inst, runtime.EventScheduled, scheduledExample); err != nil {
			return err
		}
		return inst.(runtime.Scheduler).Scheduled(ictx, ev)
	})
	s.n.eventLog(svc, ev.ID, inv.TraceID(), err, fmt.Sprintf("scheduled %q at %s", ev.Cron, ev.ScheduledTime.UTC().Format(time.RFC3339)), start)
	return err
}

func pathOnly(raw string) string {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] == '/' && raw[i+1] == '/' {
			rest := raw[i+2:]
			for j := 0; j < len(rest); j++ {
				if rest[j] == '/' {
					return rest[j:]
				}
			}
			return "/"
		}
	}
	return raw
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	wrote   bool
	written int64
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.wrote, s.status = true, code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.written += int64(n)
	return n, err
}

// CallbackHeader names the callback URL of an asynchronous request (as
// OpenFaaS does).
const CallbackHeader = "X-Callback-Url"

// Accepted is the answer to an asynchronous request.
type Accepted struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Status  string `json:"status"`
}

// acceptAsync queues a request that asked for an asynchronous answer
// (the gateway's Async hook) and answers 202 with the invocation id.
func (n *Node) acceptAsync(w http.ResponseWriter, r *http.Request, svc *dispatch.Service, req *runtime.Request) int {
	t := n.trig
	callback := r.Header.Get(CallbackHeader)
	req.Header.Del(CallbackHeader)
	// The gateway's invocation ends here, accepted; the run stores its
	// span as the traceparent it will continue.
	observe.FromContext(r.Context()).Accepted()
	observe.Inject(r.Context(), req.Header)
	var inv *job.Invocation
	err := errNoTriggers
	if t != nil {
		inv, err = t.jobs.Accept(r.Context(), svc.Name, req, callback)
	}
	if err != nil {
		status := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, job.ErrTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, job.ErrCallbackNotAllowed):
			status = http.StatusBadRequest
		default:
			w.Header().Set("Retry-After", "1")
			n.log.Warn("queue asynchronous invocation", "service", svc.Name, "error", err)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%d %s: %s (request id %s)\n", status, http.StatusText(status), err, req.ID)
		return status
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Preference-Applied", "respond-async")
	h.Set("X-Wisp-Invocation-Id", inv.ID)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(Accepted{ID: inv.ID, Service: svc.Name, Status: inv.Status})
	return http.StatusAccepted
}
