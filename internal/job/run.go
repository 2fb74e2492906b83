package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/runtime"
)

// handle runs one job. It returns an error to have the job retried (the
// queue's backoff); on its last attempt it records the failure itself.
func (j *Jobs) handle(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
	m := b.Messages[0]
	var jb Job
	if err := json.Unmarshal(m.Body, &jb); err != nil {
		j.log.Error("job cannot be decoded; dropped", "id", m.ID, "error", err)
		return nil, nil
	}
	last := m.Attempts > j.cfg.MaxRetries
	switch jb.Kind {
	case KindInvoke:
		return nil, j.runInvoke(ctx, &jb, m.Attempts, last)
	case KindCron:
		return nil, j.runCron(ctx, &jb)
	case KindCallback:
		return nil, j.runCallback(ctx, &jb, last)
	}
	j.log.Error("job of unknown kind; dropped", "id", m.ID, "kind", jb.Kind)
	return nil, nil
}

func (j *Jobs) runInvoke(ctx context.Context, jb *Job, attempts int, last bool) error {
	inv, err := j.Get(ctx, jb.Invocation)
	if errors.Is(err, ErrNotFound) {
		// The record expired while the job waited: keep a new one.
		inv = &Invocation{ID: jb.Invocation, Service: jb.Service, Method: jb.Request.Method, Path: pathOf(jb.Request.URL)}
		inv.Created = time.Now().UTC()
	} else if err != nil {
		return err
	}
	if inv.Terminal() {
		// Delivered again after it finished (a crash before the ack):
		// only make sure its callback is on its way.
		return j.queueCallback(ctx, inv)
	}
	inv.Status, inv.Attempts, inv.Error = StatusRunning, attempts, ""
	if err := j.put(ctx, inv); err != nil {
		return err
	}
	req := &runtime.Request{ID: inv.ID, Method: jb.Request.Method, URL: jb.Request.URL, Header: jb.Request.Header.Clone(), Body: jb.Request.Body}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("X-Wisp-Invocation-Id", inv.ID)
	req.Header.Set("X-Wisp-Attempt", fmt.Sprint(attempts))
	rec := &recorder{header: http.Header{}}
	err = j.cfg.Services.Fetch(ctx, jb.Service, req, rec)
	if err == nil && rec.status() < 500 {
		inv.Status, inv.Response = StatusCompleted, rec.response()
		return j.finish(ctx, inv)
	}
	if rec.wrote {
		inv.Response = rec.response()
	}
	switch {
	case err == nil:
		inv.Error = fmt.Sprintf("the service answered %d", rec.status())
	case errors.Is(err, ErrNoService):
		inv.Status, inv.Error = StatusFailed, err.Error()
		return j.finish(ctx, inv)
	default:
		inv.Error = err.Error()
	}
	if last {
		inv.Status = StatusFailed
		return j.finish(ctx, inv)
	}
	inv.Status = StatusRetrying
	if perr := j.put(ctx, inv); perr != nil {
		j.log.Warn("record failed attempt", "invocation", inv.ID, "error", perr)
	}
	return errors.New(inv.Error)
}

// finish records a final outcome and queues its callback.
func (j *Jobs) finish(ctx context.Context, inv *Invocation) error {
	if err := j.put(ctx, inv); err != nil {
		return err
	}
	return j.queueCallback(ctx, inv)
}

func (j *Jobs) queueCallback(ctx context.Context, inv *Invocation) error {
	if inv.Callback == nil || inv.Callback.Status != CallbackPending {
		return nil
	}
	return j.publish(ctx, &Job{Kind: KindCallback, Service: inv.Service, Invocation: inv.ID}, inv.ID+"-callback")
}

func (j *Jobs) runCallback(ctx context.Context, jb *Job, last bool) error {
	inv, err := j.Get(ctx, jb.Invocation)
	if errors.Is(err, ErrNotFound) {
		return nil // expired: nothing left to send
	}
	if err != nil {
		return err
	}
	cb := inv.Callback
	if cb == nil || cb.Status != CallbackPending {
		return nil
	}
	// The allowlist may have changed since the invocation was accepted.
	if err := j.cfg.Callbacks.Check(cb.URL); err != nil {
		cb.Status, cb.Error = CallbackFailed, err.Error()
		return j.put(ctx, inv)
	}
	cb.Attempts++
	body, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("encode callback of %s: %w", inv.ID, err)
	}
	cctx, cancel := context.WithTimeout(ctx, callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, cb.URL, bytes.NewReader(body))
	if err != nil {
		cb.Status, cb.Error = CallbackFailed, err.Error()
		return j.put(ctx, inv)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wisp")
	req.Header.Set("X-Wisp-Invocation-Id", inv.ID)
	resp, err := j.cfg.HTTP.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 300 {
			cb.Status, cb.Error = CallbackDelivered, ""
			return j.put(ctx, inv)
		}
		err = fmt.Errorf("the callback URL answered %s", resp.Status)
	}
	cb.Error = err.Error()
	if last {
		cb.Status = CallbackFailed
		return j.put(ctx, inv)
	}
	if perr := j.put(ctx, inv); perr != nil {
		j.log.Warn("record callback attempt", "invocation", inv.ID, "error", perr)
	}
	return err
}

func (j *Jobs) runCron(ctx context.Context, jb *Job) error {
	ev := &runtime.ScheduledEvent{ID: newID(), Cron: jb.Cron, ScheduledTime: jb.ScheduledTime}
	err := j.cfg.Services.Scheduled(ctx, jb.Service, ev)
	var ge *runtime.Error
	switch {
	case err == nil, errors.Is(err, ErrNoService):
		return nil
	case errors.As(err, &ge) && ge.NoRetry:
		return nil
	}
	return err
}

// recorder keeps a service's response, its body up to MaxResponseBytes.
type recorder struct {
	header    http.Header
	code      int
	wrote     bool
	body      bytes.Buffer
	truncated bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.wrote, r.code = true, code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	room := MaxResponseBytes - r.body.Len()
	if len(b) > room {
		r.body.Write(b[:max(room, 0)])
		r.truncated = true
	} else {
		r.body.Write(b)
	}
	return len(b), nil
}

func (r *recorder) Flush() {}

func (r *recorder) status() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) response() *Response {
	out := &Response{Status: r.status(), Header: r.header.Clone(), Truncated: r.truncated}
	if b := r.body.Bytes(); utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.BodyBase64 = bytes.Clone(b)
	}
	return out
}
