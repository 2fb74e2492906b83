package js

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/runtime"
)

// instance is one goja runtime with the prelude and a worker loaded.
type instance struct {
	mod     *module
	vm      *goja.Runtime
	loop    *loop
	created time.Time
	reqID   string          // request being served, for log entries
	ctx     context.Context // the invocation being served (bindings use it); nil between invocations

	makeIncoming  goja.Callable
	makeContext   goja.Callable
	responseParts goja.Callable
	handlers      *goja.Object // the worker's default export
	fetch         goja.Callable
	env           *goja.Object
}

var _ runtime.Instance = (*instance)(nil)

// errInterrupted is the value a deadline interrupts the VM with.
var errInterrupted = errors.New("deadline")

func newInstance(ctx context.Context, m *module) (_ *instance, err error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	in := &instance{mod: m, vm: vm, created: time.Now()}
	in.loop = newLoop(vm)

	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { vm.Interrupt(errInterrupted); close(done) })
	defer func() {
		if !stop() {
			<-done
			vm.ClearInterrupt()
		}
	}()

	prog, err := prelude()
	if err != nil {
		return nil, err
	}
	fnv, err := vm.RunProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("run prelude: %w", err)
	}
	fn, _ := goja.AssertFunction(fnv)
	iv, err := fn(goja.Undefined(), (&host{in: in}).object(vm))
	if err != nil {
		return nil, fmt.Errorf("run prelude: %w", err)
	}
	internals := iv.ToObject(vm)
	in.makeIncoming = callable(internals, "makeIncoming")
	in.makeContext = callable(internals, "makeContext")
	in.responseParts = callable(internals, "responseParts")

	if in.env, err = in.buildEnv(); err != nil {
		return nil, err
	}
	in.loop.begin()
	defer in.loop.end()
	if _, err := vm.RunProgram(m.prog); err != nil {
		return nil, in.loadError("evaluate worker", err, ctx)
	}
	modv := vm.Get(GlobalName)
	hv, err := callable(internals, "workerHandlers")(goja.Undefined(), modv)
	if err != nil {
		return nil, in.loadError("find handlers", err, ctx)
	}
	in.handlers = hv.ToObject(vm)
	in.fetch, _ = goja.AssertFunction(in.handlers.Get("fetch"))
	if in.fetch == nil {
		return nil, runtime.Errorf(runtime.Exception, "the worker's default export has no fetch handler; write `export default { async fetch(request, env, ctx) { … } }`")
	}
	return in, nil
}

func callable(o *goja.Object, name string) goja.Callable {
	fn, ok := goja.AssertFunction(o.Get(name))
	if !ok {
		panic("js: prelude does not export " + name)
	}
	return fn
}

func (in *instance) loadError(doing string, err error, ctx context.Context) error {
	ge := in.guestError(err, ctx)
	return fmt.Errorf("%s: %w", doing, ge)
}

// buildEnv makes the env object: [vars] as JS values, then the bindings.
func (in *instance) buildEnv() (*goja.Object, error) {
	env := in.vm.NewObject()
	parse, _ := goja.AssertFunction(in.vm.Get("JSON").ToObject(in.vm).Get("parse"))
	for name, v := range in.mod.spec.Env.Vars {
		if s, ok := v.(string); ok {
			_ = env.Set(name, s)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode var %s: %w", name, err)
		}
		jv, err := parse(goja.Undefined(), in.vm.ToValue(string(b)))
		if err != nil {
			return nil, fmt.Errorf("decode var %s: %w", name, err)
		}
		_ = env.Set(name, jv)
	}
	if err := in.addBindings(env); err != nil {
		return nil, err
	}
	return env, nil
}

func (in *instance) log(level logs.Level, msg string) {
	s := in.mod.spec
	if s.Logs == nil {
		return
	}
	s.Logs.Write(logs.Entry{Time: time.Now(), Service: s.Service, Version: s.Version, RequestID: in.reqID, Level: level, Message: msg})
}

// Fetch runs the worker's fetch handler for one request.
func (in *instance) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	in.reqID = req.ID
	in.ctx = ctx
	defer func() { in.reqID, in.ctx = "", nil }()
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { in.vm.Interrupt(errInterrupted); close(done) })
	defer func() {
		if !stop() {
			<-done
			in.vm.ClearInterrupt()
		}
	}()
	in.loop.begin()
	defer in.loop.end()

	vm := in.vm
	body := goja.Null()
	if len(req.Body) > 0 {
		body = vm.ToValue(vm.NewArrayBuffer(req.Body))
	}
	jsReq, err := in.makeIncoming(goja.Undefined(), vm.ToValue(req.Method), vm.ToValue(req.URL), vm.ToValue(flatHeaders(req.Header)), body)
	if err != nil {
		return in.guestError(err, ctx)
	}
	waits := vm.NewArray()
	jsCtx, err := in.makeContext(goja.Undefined(), waits)
	if err != nil {
		return in.guestError(err, ctx)
	}
	res, err := in.fetch(in.handlers, jsReq, in.env, jsCtx)
	if err != nil {
		return in.guestError(err, ctx)
	}
	if res, err = in.await(ctx, res); err != nil {
		return err
	}
	if err := in.writeResponse(res, w); err != nil {
		return err
	}
	in.waitUntil(ctx, waits)
	return nil
}

// await runs the loop until v, if it is a promise, settles.
func (in *instance) await(ctx context.Context, v goja.Value) (goja.Value, error) {
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	for {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			return p.Result(), nil
		case goja.PromiseStateRejected:
			return nil, in.rejection(p.Result())
		}
		more, err := in.loop.step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, in.guestError(err, ctx)
			}
			in.log(logs.Error, "Uncaught "+in.guestError(err, ctx).Error())
			continue
		}
		if !more && p.State() == goja.PromiseStatePending {
			return nil, runtime.Errorf(runtime.Exception, "the handler's promise never settled: nothing is left that could resolve it (the script will never generate a response)")
		}
	}
}

// waitUntil keeps the loop running for ctx.waitUntil() promises, up to the
// invocation's deadline.
func (in *instance) waitUntil(ctx context.Context, waits *goja.Object) {
	n := int(waits.Get("length").ToInteger())
	for i := 0; i < n; i++ {
		if _, err := in.await(ctx, waits.Get(strconv.Itoa(i))); err != nil {
			in.log(logs.Error, "waitUntil: "+err.Error())
			if ctx.Err() != nil {
				return
			}
		}
	}
}

func (in *instance) rejection(reason goja.Value) error {
	return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught (in promise) " + describe(in.vm, reason)}
}

// describe renders a thrown value as "Error: message" plus its stack.
func describe(vm *goja.Runtime, v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return fmt.Sprint(v)
	}
	if o, ok := v.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			s := st.String()
			if msg := o.Get("message"); msg != nil && strings.Contains(s, msg.String()) {
				return s
			}
			return v.String() + "\n" + s
		}
	}
	return v.String()
}

// guestError converts an error from a call into JS into a runtime.Error.
func (in *instance) guestError(err error, ctx context.Context) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return runtime.Errorf(runtime.Timeout, "the worker exceeded its time limit of %dms", in.mod.spec.Manifest.Limits.TimeoutMS)
		}
		return runtime.Errorf(runtime.Crash, "the invocation was canceled")
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		// Uncatchable in goja: the instance's state is suspect, throw it away.
		return &runtime.Error{Kind: runtime.Crash, Message: "Uncaught RangeError: Maximum call stack size exceeded" + so.Error()}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught " + describe(in.vm, ex.Value())}
	}
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) {
		return &runtime.Error{Kind: runtime.Exception, Message: ce.Error()}
	}
	var ge *runtime.Error
	if errors.As(err, &ge) {
		return ge
	}
	return &runtime.Error{Kind: runtime.Crash, Message: err.Error()}
}

// flatHeaders lists request headers as [name, value, ...] with lowercase
// names, one entry per value. Order does not matter: Headers iterate
// sorted by name.
func flatHeaders(h http.Header) []string {
	out := make([]string, 0, 2*len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		for _, v := range vs {
			out = append(out, lk, v)
		}
	}
	return out
}

func (in *instance) Close() {
	in.loop.end()
}
