package wasm

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Queue batches and cron ticks through the wisp ABI (docs/abi.md,
// "Events"): the module exports wisp_queue and wisp_scheduled, reads the
// event with queue_batch or scheduled_info, and settles messages with
// queue_ack, queue_retry, queue_ack_all and queue_retry_all (Workers
// precedence: a message's own call, then the batch's, then the outcome:
// wisp_queue returning 0 acknowledges, anything else retries).

// Exports of the events.
const (
	exportQueue     = "wisp_queue"
	exportScheduled = "wisp_scheduled"
	// exportHandles, when present, says which events the module takes
	// (an SDK exports every entry point whether or not the service
	// registered a handler): a bit mask of handles* values.
	exportHandles = "wisp_handles"
)

// Bits of wisp_handles' result.
const (
	handlesRequests  = 1
	handlesQueue     = 2
	handlesScheduled = 4
)

// maxDelaySeconds bounds a retry's delay (Workers' 12 hours).
const maxDelaySeconds = 43200

func init() {
	hostFuncs["queue_batch"] = hostFunc{2, (*reactor).queueBatch}
	hostFuncs["queue_ack"] = hostFunc{1, (*reactor).queueAck}
	hostFuncs["queue_retry"] = hostFunc{2, (*reactor).queueRetry}
	hostFuncs["queue_ack_all"] = hostFunc{0, (*reactor).queueAckAll}
	hostFuncs["queue_retry_all"] = hostFunc{1, (*reactor).queueRetryAll}
	hostFuncs["scheduled_info"] = hostFunc{2, (*reactor).scheduledInfo}
	hostFuncs["scheduled_no_retry"] = hostFunc{0, (*reactor).scheduledNoRetry}
}

var (
	_ runtime.QueueConsumer = (*reactor)(nil)
	_ runtime.Scheduler     = (*reactor)(nil)
	_ runtime.HandlerSet    = (*reactor)(nil)
)

// events is a reactor's state for queue batches and cron ticks.
type events struct {
	handles   uint32 // handles* bits
	batch     *runtime.QueueBatch
	decisions []decision // per message
	all       decision   // the batch's
	tick      *runtime.ScheduledEvent
	noRetry   bool
}

// decision is an ack or retry; the first call counts.
type decision struct {
	set, retry bool
	delay      int
}

// checkEventExports refuses event entry points of the wrong signature.
func checkEventExports(fns map[string]api.FunctionDefinition) error {
	for _, name := range []string{exportQueue, exportScheduled, exportHandles} {
		if f, ok := fns[name]; ok && (len(f.ParamTypes()) != 0 || !sameTypes(f.ResultTypes(), api.ValueTypeI32)) {
			return fmt.Errorf("exports %s with a signature other than () -> i32", name)
		}
	}
	return nil
}

// initEvents reads which events the instance takes, after wisp_init.
func (r *reactor) initEvents(ctx context.Context) error {
	if f := r.inst.ExportedFunction(exportHandles); f != nil {
		res, err := r.mod.call(ctx, r.inst, f)
		if err != nil {
			return fmt.Errorf("%s: %w", exportHandles, r.guestError(ctx, err))
		}
		r.events.handles = uint32(res[0])
		return nil
	}
	r.events.handles = handlesRequests
	if r.inst.ExportedFunction(exportQueue) != nil {
		r.events.handles |= handlesQueue
	}
	if r.inst.ExportedFunction(exportScheduled) != nil {
		r.events.handles |= handlesScheduled
	}
	return nil
}

// Handles reports whether the module takes event (runtime.HandlerSet).
func (r *reactor) Handles(event string) bool {
	switch event {
	case runtime.EventFetch:
		return r.events.handles&handlesRequests != 0
	case runtime.EventQueue:
		return r.events.handles&handlesQueue != 0 && r.inst.ExportedFunction(exportQueue) != nil
	case runtime.EventScheduled:
		return r.events.handles&handlesScheduled != 0 && r.inst.ExportedFunction(exportScheduled) != nil
	}
	return false
}

// callEvent calls an event export with the reactor set up for the call.
func (r *reactor) callEvent(ctx context.Context, id, export string) error {
	f := r.inst.ExportedFunction(export)
	if f == nil {
		return runtime.Errorf(runtime.Exception, "the module does not export %s", export)
	}
	r.ctx = ctx
	r.stdout.start(ctx, id)
	r.stderr.start(ctx, id)
	defer func() {
		r.closeStreams()
		r.stdout.flush()
		r.stderr.flush()
		r.ctx, r.result, r.errMsg = nil, nil, ""
	}()
	res, err := r.mod.call(context.WithValue(ctx, reactorKey{}, r), r.inst, f)
	if err != nil {
		return r.guestError(ctx, err)
	}
	if rc := int32(res[0]); rc != 0 {
		return runtime.Errorf(runtime.Exception, "the module's %s returned %d", export, rc)
	}
	return nil
}

// Queue calls wisp_queue for one batch and says what becomes of each
// message.
func (r *reactor) Queue(ctx context.Context, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
	r.events.batch, r.events.decisions, r.events.all = b, make([]decision, len(b.Messages)), decision{}
	defer func() { r.events.batch, r.events.decisions = nil, nil }()
	err := r.callEvent(ctx, b.ID, exportQueue)
	res := &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.Messages))}
	for i, d := range r.events.decisions {
		if !d.set {
			d = r.events.all
		}
		if !d.set {
			d = decision{set: true, retry: err != nil}
		}
		res.Messages[i] = runtime.MessageOutcome{Retry: d.retry, DelaySeconds: d.delay}
	}
	return res, err
}

// Scheduled calls wisp_scheduled for one cron tick.
func (r *reactor) Scheduled(ctx context.Context, ev *runtime.ScheduledEvent) error {
	r.events.tick, r.events.noRetry = ev, false
	defer func() { r.events.tick = nil }()
	err := r.callEvent(ctx, ev.ID, exportScheduled)
	if ge, ok := err.(*runtime.Error); ok && r.events.noRetry {
		ge.NoRetry = true
	}
	return err
}

// queueBatch gives the batch as a string list: the queue name, then five
// strings per message: id, timestamp (unix milliseconds), attempts,
// content type, body.
func (r *reactor) queueBatch(m api.Module, p []uint32) int32 {
	view(m, p[0], p[1], "result buffer")
	b := r.events.batch
	if b == nil {
		return r.fail(codeState, "queue_batch: no queue batch is being handled")
	}
	ss := make([]string, 0, 1+5*len(b.Messages))
	ss = append(ss, b.Queue)
	for _, msg := range b.Messages {
		ss = append(ss, msg.ID, strconv.FormatInt(msg.Timestamp.UnixMilli(), 10), strconv.Itoa(msg.Attempts), msg.ContentType, string(msg.Body))
	}
	return r.give(m, appendList(nil, ss...), p[0], p[1])
}

// message checks a message index of the batch being handled.
func (r *reactor) message(op string, i uint32) (*decision, int32) {
	if r.events.batch == nil {
		return nil, r.fail(codeState, "%s: no queue batch is being handled", op)
	}
	if int(i) >= len(r.events.decisions) {
		return nil, r.fail(codeBadInput, "%s: message %d is not in the batch of %d", op, i, len(r.events.decisions))
	}
	return &r.events.decisions[i], codeOK
}

func (r *reactor) delay(op string, v uint32) (int, int32) {
	if d := int32(v); d < 0 || d > maxDelaySeconds {
		return 0, r.fail(codeBadInput, "%s: delay_seconds %d is not between 0 and %d (12 hours)", op, d, maxDelaySeconds)
	}
	return int(v), codeOK
}

func (r *reactor) queueAck(m api.Module, p []uint32) int32 {
	d, rc := r.message("queue_ack", p[0])
	if rc != codeOK {
		return rc
	}
	if !d.set {
		*d = decision{set: true}
	}
	return codeOK
}

func (r *reactor) queueRetry(m api.Module, p []uint32) int32 {
	d, rc := r.message("queue_retry", p[0])
	if rc != codeOK {
		return rc
	}
	delay, rc := r.delay("queue_retry", p[1])
	if rc != codeOK {
		return rc
	}
	if !d.set {
		*d = decision{set: true, retry: true, delay: delay}
	}
	return codeOK
}

func (r *reactor) queueAckAll(m api.Module, p []uint32) int32 {
	if r.events.batch == nil {
		return r.fail(codeState, "queue_ack_all: no queue batch is being handled")
	}
	if !r.events.all.set {
		r.events.all = decision{set: true}
	}
	return codeOK
}

func (r *reactor) queueRetryAll(m api.Module, p []uint32) int32 {
	if r.events.batch == nil {
		return r.fail(codeState, "queue_retry_all: no queue batch is being handled")
	}
	delay, rc := r.delay("queue_retry_all", p[0])
	if rc != codeOK {
		return rc
	}
	if !r.events.all.set {
		r.events.all = decision{set: true, retry: true, delay: delay}
	}
	return codeOK
}

// scheduledInfo gives the tick as a string list: the cron expression and
// the scheduled time (unix milliseconds).
func (r *reactor) scheduledInfo(m api.Module, p []uint32) int32 {
	view(m, p[0], p[1], "result buffer")
	ev := r.events.tick
	if ev == nil {
		return r.fail(codeState, "scheduled_info: no cron tick is being handled")
	}
	return r.give(m, appendList(nil, ev.Cron, strconv.FormatInt(ev.ScheduledTime.UnixMilli(), 10)), p[0], p[1])
}

func (r *reactor) scheduledNoRetry(m api.Module, p []uint32) int32 {
	if r.events.tick == nil {
		return r.fail(codeState, "scheduled_no_retry: no cron tick is being handled")
	}
	r.events.noRetry = true
	return codeOK
}
