package js

import (
	"context"
	"strings"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/runtime"
)

// scheduled(controller, env, ctx) and queue(batch, env, ctx): the
// Workers shapes of cron ticks and queue batches. Unlike fetch, both wait
// for their ctx.waitUntil work before returning: the trigger acts on the
// outcome, and there is no client to release.

var (
	_ runtime.Scheduler     = (*instance)(nil)
	_ runtime.QueueConsumer = (*instance)(nil)
	_ runtime.HandlerSet    = (*instance)(nil)
)

// Scheduled runs the worker's scheduled handler for one cron tick.
func (in *instance) Scheduled(ctx context.Context, ev *runtime.ScheduledEvent) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.ready(ctx); err != nil {
		return err
	}
	var err error
	in.slot.run(func() {
		inv := in.begin(ctx, ev.ID)
		defer in.end(inv)
		jsCtx := in.newExecutionContext(inv)
		fn, this, herr := in.handler(runtime.EventScheduled, jsCtx)
		if herr != nil {
			err = in.guestError(herr, ctx)
			return
		}
		ctl := in.wrap(controllerClass, &controller{in: in, inv: inv, ev: ev})
		v, cerr := fn(this, ctl, in.env, jsCtx)
		err = in.settle(inv, v, cerr)
		if ge, ok := err.(*runtime.Error); ok && inv.noRetry {
			ge.NoRetry = true
		}
	})
	return err
}

// controller is a ScheduledController.
type controller struct {
	base
	in  *instance
	inv *invocation
	ev  *runtime.ScheduledEvent
}

var controllerClass = defineClass(&classDef{
	name: "ScheduledController",
	methods: map[string]method{
		"noRetry": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			thisAs[*controller](in, this).inv.noRetry = true
			return goja.Undefined()
		},
	},
})

func (c *controller) Get(key string) goja.Value {
	switch key {
	case "cron":
		return c.in.vm.ToValue(c.ev.Cron)
	case "scheduledTime":
		return c.in.vm.ToValue(c.ev.ScheduledTime.UnixMilli())
	case "type":
		return c.in.vm.ToValue("scheduled")
	}
	return c.expando.get(key)
}

func (c *controller) Set(key string, v goja.Value) bool {
	switch key {
	case "cron", "scheduledTime", "type":
		return false
	}
	c.setExpando(key, v)
	return true
}

// Queue runs the worker's queue handler for one batch and says what
// becomes of each message.
func (in *instance) Queue(ctx context.Context, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	qb := &queueBatch{in: in, batch: b, msgs: make([]*queueMessage, len(b.Messages))}
	for i := range b.Messages {
		qb.msgs[i] = &queueMessage{in: in, batch: qb, m: &b.Messages[i]}
	}
	if err := in.ready(ctx); err != nil {
		return qb.result(false), err
	}
	var err error
	in.slot.run(func() {
		inv := in.begin(ctx, b.ID)
		defer in.end(inv)
		jsCtx := in.newExecutionContext(inv)
		fn, this, herr := in.handler(runtime.EventQueue, jsCtx)
		if herr != nil {
			err = in.guestError(herr, ctx)
			return
		}
		batchObj, berr := in.newBatchObject(qb)
		if berr != nil {
			err = berr
			return
		}
		v, cerr := fn(this, batchObj, in.env, jsCtx)
		err = in.settle(inv, v, cerr)
	})
	return qb.result(err == nil), err
}

// A decision on a message or a batch: the first call counts.
type decision struct {
	set   bool
	retry bool
	delay int
}

type queueBatch struct {
	base
	in       *instance
	batch    *runtime.QueueBatch
	msgs     []*queueMessage
	decision decision
	arr      *goja.Object
}

type queueMessage struct {
	base
	in       *instance
	batch    *queueBatch
	m        *runtime.QueueMessage
	decision decision
	body     goja.Value
}

// result applies Workers' precedence: message, then batch, then outcome.
func (b *queueBatch) result(ok bool) *runtime.QueueResult {
	res := &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.msgs))}
	for i, m := range b.msgs {
		d := m.decision
		if !d.set {
			d = b.decision
		}
		if !d.set {
			d = decision{set: true, retry: !ok}
		}
		res.Messages[i] = runtime.MessageOutcome{Retry: d.retry, DelaySeconds: d.delay}
	}
	return res
}

var messageBatchClass = defineClass(&classDef{
	name: "MessageBatch",
	methods: map[string]method{
		"ackAll": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*queueBatch](in, this)
			if !b.decision.set {
				b.decision = decision{set: true}
			}
			return goja.Undefined()
		},
		"retryAll": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*queueBatch](in, this)
			if !b.decision.set {
				b.decision = decision{set: true, retry: true, delay: in.delaySeconds(arg(args, 0))}
			}
			return goja.Undefined()
		},
	},
})

var messageClass = defineClass(&classDef{
	name: "Message",
	methods: map[string]method{
		"ack": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			m := thisAs[*queueMessage](in, this)
			if !m.decision.set {
				m.decision = decision{set: true}
			}
			return goja.Undefined()
		},
		"retry": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			m := thisAs[*queueMessage](in, this)
			if !m.decision.set {
				m.decision = decision{set: true, retry: true, delay: in.delaySeconds(arg(args, 0))}
			}
			return goja.Undefined()
		},
	},
})

// delaySeconds reads {delaySeconds} (0 to 43200, as on Workers).
func (in *instance) delaySeconds(v goja.Value) int {
	o, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	d := o.Get("delaySeconds")
	if d == nil || goja.IsUndefined(d) {
		return 0
	}
	n := d.ToInteger()
	if n < 0 || n > 43200 {
		in.throwError("RangeError", "delaySeconds must be between 0 and 43200 (12 hours)")
	}
	return int(n)
}

func (in *instance) newBatchObject(b *queueBatch) (*goja.Object, error) {
	items := make([]any, len(b.msgs))
	for i, m := range b.msgs {
		body, err := in.messageBody(m.m)
		if err != nil {
			return nil, err
		}
		m.body = body
		items[i] = in.wrap(messageClass, m)
	}
	b.arr = in.vm.NewArray(items...)
	return in.wrap(messageBatchClass, b), nil
}

// messageBody decodes a message as its producer encoded it. "v8" (the
// Workers default, V8's serialization) is not V8's format in wisp: wisp's
// producers write JSON for it, so it is read as JSON.
func (in *instance) messageBody(m *runtime.QueueMessage) (goja.Value, error) {
	switch strings.ToLower(m.ContentType) {
	case "text":
		return in.vm.ToValue(decodeUTF8(m.Body, false)), nil
	case "bytes":
		return in.newArrayBuffer(append([]byte(nil), m.Body...)), nil
	default:
		v, err := in.jsonParse()(goja.Undefined(), in.vm.ToValue(string(m.Body)))
		if err != nil {
			return nil, runtime.Errorf(runtime.Exception, "message %s: its body is not valid JSON: %v", m.ID, in.guestError(err, nil))
		}
		return v, nil
	}
}

func (b *queueBatch) Get(key string) goja.Value {
	switch key {
	case "queue":
		return b.in.vm.ToValue(b.batch.Queue)
	case "messages":
		return b.arr
	}
	return b.expando.get(key)
}

func (b *queueBatch) Set(key string, v goja.Value) bool {
	if key == "queue" || key == "messages" {
		return false
	}
	b.setExpando(key, v)
	return true
}

func (m *queueMessage) Get(key string) goja.Value {
	in := m.in
	switch key {
	case "id":
		return in.vm.ToValue(m.m.ID)
	case "timestamp":
		d, err := in.vm.New(in.vm.Get("Date"), in.vm.ToValue(m.m.Timestamp.UnixMilli()))
		if err != nil {
			return goja.Undefined()
		}
		return d
	case "body":
		return m.body
	case "attempts":
		return in.vm.ToValue(m.m.Attempts)
	}
	return m.expando.get(key)
}

func (m *queueMessage) Set(key string, v goja.Value) bool {
	switch key {
	case "id", "timestamp", "body", "attempts":
		return false
	}
	m.setExpando(key, v)
	return true
}
