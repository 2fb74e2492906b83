package js

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/runtime"
)

// invocation is one call of a handler, from its start until its response
// is written and its ctx.waitUntil promises settled.
type invocation struct {
	id      string
	ctx     context.Context
	waits   []goja.Value // ctx.waitUntil promises
	noRetry bool         // controller.noRetry() was called
	stop    func() bool  // disarms the interrupt on ctx
	ended   bool
}

// begin starts an invocation: ctx's end interrupts the VM.
func (in *instance) begin(ctx context.Context, id string) *invocation {
	inv := &invocation{id: id, ctx: ctx}
	in.inv, in.ctx = inv, ctx
	in.arm(inv)
	in.loop.begin()
	return inv
}

func (in *instance) arm(inv *invocation) {
	vm, fired := in.vm, in.fired
	inv.stop = context.AfterFunc(inv.ctx, func() {
		vm.Interrupt(errInterrupted)
		fired <- struct{}{}
	})
}

func (in *instance) disarm(inv *invocation) {
	if inv.stop != nil && !inv.stop() {
		<-in.fired
		in.vm.ClearInterrupt()
	}
	inv.stop = nil
}

// end finishes an invocation; nothing it scheduled runs afterwards.
func (in *instance) end(inv *invocation) {
	if inv.ended {
		return
	}
	inv.ended = true
	in.loop.end()
	in.disarm(inv)
	in.inv, in.ctx = nil, nil
}

// ready makes sure the runtime can be used: a runtime left suspect by a
// previous invocation (memory limit, background timeout) is replaced.
func (in *instance) ready(ctx context.Context) error {
	if in.closed {
		return runtime.Errorf(runtime.Crash, "the instance was closed")
	}
	if in.slot.poisoned() {
		in.broken = "it exceeded its memory limit"
	}
	if in.broken == "" {
		return nil
	}
	in.slot.reset()
	var err error
	in.slot.run(func() { err = in.boot(ctx) })
	if err != nil {
		in.broken = "it failed to restart"
		return &runtime.Error{Kind: runtime.Crash, Message: "restarting the worker: " + err.Error()}
	}
	return nil
}

// handler returns the function for event and the `this` to call it with.
// For a class default export (WorkerEntrypoint style) a new object is
// made per invocation with (ctx, env), as Workers does.
func (in *instance) handler(event string, jsCtx goja.Value) (goja.Callable, goja.Value, error) {
	if fn, ok := in.callables[event]; ok {
		return fn, in.handlers, nil
	}
	this := goja.Value(in.handlers)
	if in.handlerClass != nil {
		o, err := in.vm.New(in.handlerClass, jsCtx, in.env)
		if err != nil {
			return nil, nil, err
		}
		this = o
	}
	fn, ok := goja.AssertFunction(this.(*goja.Object).Get(event))
	if !ok {
		return nil, nil, runtime.Errorf(runtime.Exception, "the worker has no %s handler; add `async %s(…)` to its default export", event, event)
	}
	if in.handlerClass == nil {
		in.callables[event] = fn
	}
	return fn, this, nil
}

// Fetch runs the worker's fetch handler for one request. When the worker
// left ctx.waitUntil work, the response is flushed and Fetch returns; the
// work goes on in the background, up to the request's deadline, and
// Linger reports when it is done.
func (in *instance) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	in.mu.Lock()
	lingering := false
	defer func() {
		if !lingering {
			in.mu.Unlock()
		}
	}()
	if err := in.ready(ctx); err != nil {
		return err
	}
	var err error
	in.slot.run(func() { lingering, err = in.fetch(ctx, req, w) })
	return err
}

func (in *instance) fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) (bool, error) {
	inv := in.begin(ctx, req.ID)
	detached := false
	defer func() {
		if !detached {
			in.end(inv)
		}
	}()
	jsReq := in.newIncomingRequest(req)
	jsCtx := in.newExecutionContext(inv)
	fn, this, err := in.handler("fetch", jsCtx)
	if err != nil {
		return false, in.guestError(err, ctx)
	}
	v, err := fn(this, jsReq, in.env, jsCtx)
	if err != nil {
		return false, in.guestError(err, ctx)
	}
	v, err = in.await(inv, v)
	if err != nil {
		return false, err
	}
	res := asResponse(v)
	if res == nil {
		return false, runtime.Errorf(runtime.BadResponse, "the fetch handler returned %s, not a Response", typeOf(v))
	}
	if err := in.writeResponse(inv, res, w); err != nil {
		return false, err
	}
	if len(inv.waits) == 0 {
		return false, nil
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	detached = true
	in.linger(inv)
	return true, nil
}

// linger moves an invocation's ctx.waitUntil work to a goroutine. It
// keeps the request's deadline but not its cancellation (the client may
// hang up once it has its response, as on Workers).
func (in *instance) linger(inv *invocation) {
	in.disarm(inv)
	deadline, ok := inv.ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Duration(in.mod.limits.timeoutMS) * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(inv.ctx), deadline)
	inv.ctx, in.ctx = ctx, ctx
	in.arm(inv)
	done := make(chan error, 1)
	in.lingerCh = done
	go in.slot.run(func() {
		defer in.mu.Unlock()
		defer cancel()
		err := in.settleWaits(inv)
		in.end(inv)
		if runtime.MustDiscard(err) {
			// The pool may already have been told the instance is fine:
			// start afresh before the next use.
			in.broken = err.Error()
		}
		done <- err
	})
}

// Linger reports whether the last Fetch left work running. When it did,
// the channel yields that work's outcome once it is done (nil, or the
// error that made the runtime unusable); the instance must not be given
// another invocation before then. Pools call it right after Fetch.
func (in *instance) Linger() <-chan error {
	ch := in.lingerCh
	in.lingerCh = nil
	return ch
}

var _ runtime.Lingerer = (*instance)(nil)

// settleWaits runs the loop until every ctx.waitUntil promise settled or
// the deadline passed. Rejections are logged, as Workers does.
func (in *instance) settleWaits(inv *invocation) error {
	for i := 0; i < len(inv.waits); i++ {
		if _, err := in.await(inv, inv.waits[i]); err != nil {
			in.log(logs.Error, "waitUntil: "+err.Error())
			if runtime.MustDiscard(err) {
				return err
			}
		}
	}
	return nil
}

// await runs the loop until v, if it is a promise, settles.
func (in *instance) await(inv *invocation, v goja.Value) (goja.Value, error) {
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != promiseType {
		return v, nil // (ExportType does not allocate; Export does)
	}
	p, ok := o.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	for {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			return p.Result(), nil
		case goja.PromiseStateRejected:
			delete(in.loop.unhandled, p)
			return nil, in.rejection(p.Result())
		}
		more, err := in.loop.step(inv.ctx)
		if err != nil {
			ge := in.guestError(err, inv.ctx)
			if runtime.MustDiscard(ge) {
				return nil, ge
			}
			in.log(logs.Error, ge.Error())
			continue
		}
		if !more && p.State() == goja.PromiseStatePending {
			return nil, runtime.Errorf(runtime.Exception, "the handler's promise never settled: nothing is left that could resolve it (the script will never generate a response)")
		}
	}
}

// settle waits for a handler's result (v, or the error calling it
// returned) and then for the invocation's ctx.waitUntil work.
func (in *instance) settle(inv *invocation, v goja.Value, err error) error {
	if err != nil {
		return in.guestError(err, inv.ctx)
	}
	_, err = in.await(inv, v)
	werr := in.settleWaits(inv)
	if err != nil {
		return err
	}
	return werr
}

// Handles reports whether the worker exports a handler for event
// ("fetch", "scheduled" or "queue").
func (in *instance) Handles(event string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.handlers == nil {
		return false
	}
	return in.handles(event)
}

// executionContext is the ctx argument of every handler.
type executionContext struct {
	base
	in  *instance
	inv *invocation
}

var executionContextClass = defineClass(&classDef{
	name: "ExecutionContext",
	methods: map[string]method{
		"waitUntil": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			c := thisAs[*executionContext](in, this)
			if c.inv.ended || c.inv != in.inv {
				in.log(logs.Warn, "ctx.waitUntil() called after its invocation ended; the promise is ignored")
				return goja.Undefined()
			}
			c.inv.waits = append(c.inv.waits, arg(args, 0))
			return goja.Undefined()
		},
		"passThroughOnException": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			// Workers would forward the request to the origin on an
			// exception; wisp has no origin behind a service, so an
			// exception still gives a 500.
			thisAs[*executionContext](in, this)
			return goja.Undefined()
		},
	},
})

func (c *executionContext) Get(key string) goja.Value {
	if key == "props" {
		if v := c.expando.get(key); v != nil {
			return v
		}
		o := c.in.vm.NewObject()
		c.expando.set(key, o)
		return o
	}
	return c.expando.get(key)
}

func (c *executionContext) Set(key string, v goja.Value) bool { c.setExpando(key, v); return true }

func (in *instance) newExecutionContext(inv *invocation) *goja.Object {
	return in.wrap(executionContextClass, &executionContext{in: in, inv: inv})
}

var promiseType = reflect.TypeOf((*goja.Promise)(nil))
