package js

import (
	"context"
	"fmt"
	"math"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/binding"
)

// Queue producers ([[queues.producers]]): env.BINDING.send(body,
// {contentType, delaySeconds}) and env.BINDING.sendBatch(messages,
// {delaySeconds}), with the Workers signatures. Bodies are encoded on the
// loop; the send runs off it and its promise settles once the queue has
// stored every message. A bad argument rejects the promise naming it and
// sends nothing.

// addQueues puts the version's queue producers on env.
func (in *instance) addQueues(env *goja.Object) error {
	for _, name := range sortedKeys(in.mod.spec.Env.Queues) {
		p := in.mod.spec.Env.Queues[name]
		o := in.vm.NewObject()
		send := func(call goja.FunctionCall) goja.Value { return in.queueSend(p, call.Arguments, false) }
		sendBatch := func(call goja.FunctionCall) goja.Value { return in.queueSend(p, call.Arguments, true) }
		if err := o.Set("send", send); err != nil {
			return err
		}
		if err := o.Set("sendBatch", sendBatch); err != nil {
			return err
		}
		if err := env.Set(name, o); err != nil {
			return err
		}
	}
	return nil
}

func (in *instance) queueSend(p binding.Producer, args []goja.Value, batch bool) goja.Value {
	var msgs []binding.Message
	if ex := in.vm.Try(func() {
		if batch {
			msgs = in.batchMessages(arg(args, 0), arg(args, 1))
		} else {
			msgs = []binding.Message{in.queueMessage(arg(args, 0), arg(args, 1), -1, "send")}
		}
	}); ex != nil {
		return in.rejected(ex.Value())
	}
	return in.async(func(ctx context.Context) settle {
		if err := p.Send(ctx, msgs); err != nil {
			return failed(err)
		}
		return done(goja.Undefined(), nil)
	})
}

// batchMessages reads sendBatch's iterable of {body, contentType,
// delaySeconds} and the default delaySeconds of its options.
func (in *instance) batchMessages(list, opts goja.Value) []binding.Message {
	if isNullish(list) {
		in.throwTypeError("sendBatch: the first argument must be an iterable of messages ({ body, contentType?, delaySeconds? })")
	}
	def := in.optionalDelay(opts, "sendBatch")
	var msgs []binding.Message
	in.vm.ForOf(list, func(v goja.Value) bool {
		o, ok := v.(*goja.Object)
		if !ok {
			in.throwTypeError(fmt.Sprintf("sendBatch: message %d must be an object with a body", len(msgs)))
		}
		msgs = append(msgs, in.queueMessage(o.Get("body"), o, def, fmt.Sprintf("sendBatch: message %d", len(msgs))))
		return true
	})
	if len(msgs) == 0 {
		in.throwTypeError("sendBatch: there are no messages to send")
	}
	return msgs
}

// queueMessage encodes one body by its contentType: "json" (the
// default), "text" or "bytes". delay is used when opts gives no
// delaySeconds (-1: the binding's delivery_delay).
func (in *instance) queueMessage(body, opts goja.Value, delay int, what string) binding.Message {
	ct := "json"
	if o, ok := opts.(*goja.Object); ok {
		if v := o.Get("contentType"); !isNullish(v) {
			ct = v.String()
		}
		if d := in.optionalDelay(o, what); d >= 0 {
			delay = d
		}
	}
	m := binding.Message{ContentType: ct, DelaySeconds: delay}
	switch ct {
	case "json":
		if body == nil || goja.IsUndefined(body) {
			in.throwTypeError(what + ": the body is undefined, which JSON cannot encode")
		}
		stringify, _ := goja.AssertFunction(in.vm.Get("JSON").ToObject(in.vm).Get("stringify"))
		s, err := stringify(goja.Undefined(), body)
		if err != nil {
			panic(err)
		}
		if goja.IsUndefined(s) {
			in.throwTypeError(what + ": the body cannot be encoded as JSON")
		}
		m.Body = []byte(s.String())
	case "text":
		if _, ok := body.Export().(string); !ok {
			in.throwTypeError(what + `: a "text" message's body must be a string`)
		}
		m.Body = []byte(body.String())
	case "bytes":
		b, ok := in.bufferBytes(body)
		if !ok {
			in.throwTypeError(what + `: a "bytes" message's body must be an ArrayBuffer or a typed array`)
		}
		m.Body = append([]byte(nil), b...)
	case "v8":
		in.throwTypeError(what + `: contentType "v8" (V8 serialization) is not supported by wisp; use "json", "text" or "bytes"`)
	default:
		in.throwTypeError(fmt.Sprintf(`%s: contentType %q is not one of "json", "text", "bytes"`, what, ct))
	}
	return m
}

// optionalDelay reads {delaySeconds}: -1 when absent.
func (in *instance) optionalDelay(opts goja.Value, what string) int {
	o, ok := opts.(*goja.Object)
	if !ok {
		return -1
	}
	d := o.Get("delaySeconds")
	if d == nil || isNullish(d) {
		return -1
	}
	f := d.ToFloat()
	if math.IsNaN(f) || f < 0 || f > 43200 || f != math.Trunc(f) {
		in.throwError("RangeError", fmt.Sprintf("%s: delaySeconds must be a whole number from 0 to 43200 (12 hours), got %s", what, d.String()))
	}
	return int(f)
}
