package js

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/runtime"
)

// instance is one goja runtime with a worker loaded. One invocation runs
// at a time (mu), including the ctx.waitUntil work it leaves behind.
type instance struct {
	mod *module
	mu  sync.Mutex

	vm       *goja.Runtime
	loop     *loop
	classes  []*classRT
	globals  *globalScope
	programs map[string]*goja.Object
	host     *goja.Object
	env      *goja.Object
	cache    valueCache
	created  time.Time

	// The worker's default export: an object with handler methods, or a
	// class (WorkerEntrypoint style) instantiated per invocation.
	handlers     *goja.Object
	handlerClass *goja.Object
	callables    map[string]goja.Callable // handlers' methods, for an object default export

	inv      *invocation     // the invocation running, nil between them
	ctx      context.Context // its context (bindings use it); nil between invocations
	lingerCh chan error      // set by a Fetch that left work running
	fired    chan struct{}
	vmRef    atomic.Pointer[goja.Runtime] // vm, for the memory governor's goroutine
	broken   string                       // non-empty: the runtime is suspect; boot a new one before the next use
	closed   bool
	slot     *memSlot
	bufAlloc int64 // binary buffers allocated since the last memory check
}

var _ runtime.Instance = (*instance)(nil)

func newInstance(ctx context.Context, m *module) (*instance, error) {
	in := &instance{mod: m, created: time.Now(), fired: make(chan struct{}, 1)}
	in.slot = governor.register(in)
	var err error
	in.slot.run(func() { err = in.boot(ctx) })
	if err != nil {
		governor.unregister(in.slot)
		return nil, err
	}
	return in, nil
}

// boot makes a fresh runtime and evaluates the worker in it.
func (in *instance) boot(ctx context.Context) (err error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	in.vm = vm
	in.vmRef.Store(vm)
	in.loop = newLoop(in)
	in.classes = make([]*classRT, len(classDefs))
	in.programs = make(map[string]*goja.Object, 4)
	in.cache = valueCache{}
	in.broken = ""
	// The global object: a plain object, then the Web APIs made on first
	// use (globalScope), then goja's built-ins.
	orig := vm.GlobalObject()
	in.globals = &globalScope{in: in, cache: make(map[string]goja.Value, 16), orig: orig}
	scope := vm.NewDynamicObject(in.globals)
	_ = scope.SetPrototype(orig)
	global := vm.NewObject()
	_ = global.SetPrototype(scope)
	vm.SetGlobalObject(global)
	in.host = in.newHost()

	inv := in.begin(ctx, "")
	defer in.end(inv)
	// The worker's top level is not an invocation: as on Workers, I/O and
	// timers there are refused (in.ctx is what they look for).
	in.ctx = nil
	in.installGuards()
	if in.env, err = in.buildEnv(); err != nil {
		return err
	}
	_ = vm.GlobalObject().DefineDataProperty(envGlobal, in.env, goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if _, err := vm.RunProgram(in.mod.prog); err != nil {
		return fmt.Errorf("evaluate worker: %w", in.guestError(err, ctx))
	}
	if err := in.findHandlers(); err != nil {
		return err
	}
	return nil
}

// findHandlers reads the worker's default export.
func (in *instance) findHandlers() error {
	modv := in.vm.Get(GlobalName)
	if isNullish(modv) {
		return runtime.Errorf(runtime.Exception, "the worker bundle did not evaluate to a module")
	}
	def := modv.ToObject(in.vm).Get("default")
	if isNullish(def) {
		return runtime.Errorf(runtime.Exception, "the worker has no default export; write `export default { async fetch(request, env, ctx) { … } }`")
	}
	o, ok := def.(*goja.Object)
	if !ok {
		return runtime.Errorf(runtime.Exception, "the worker's default export is %s, not an object with handlers", typeOf(def))
	}
	in.handlers, in.handlerClass = o, nil
	in.callables = make(map[string]goja.Callable, 3)
	if _, isFn := goja.AssertConstructor(o); isFn {
		if proto, ok := o.Get("prototype").(*goja.Object); ok {
			in.handlerClass, in.handlers = o, proto
		}
	}
	return in.checkHandlers()
}

// checkHandlers refuses a worker that lacks a handler its manifest needs:
// fetch for routes (or when it has no other handler: it can only be
// invoked), scheduled for crons, queue for queue consumers.
func (in *instance) checkHandlers() error {
	m := in.mod.spec.Manifest
	if m == nil {
		return nil
	}
	fetch, sched, queue := in.handles(runtime.EventFetch), in.handles(runtime.EventScheduled), in.handles(runtime.EventQueue)
	switch {
	case !fetch && len(m.Routes) > 0:
		return runtime.Errorf(runtime.Exception, "the worker has no fetch handler, but its manifest routes HTTP requests to it; write `export default { async fetch(request, env, ctx) { … } }`")
	case !fetch && !sched && !queue:
		return runtime.Errorf(runtime.Exception, "the worker has no fetch handler (nor scheduled or queue); write `export default { async fetch(request, env, ctx) { … } }`")
	case !sched && len(m.Triggers.Crons) > 0:
		return runtime.Errorf(runtime.Exception, "the worker has no scheduled handler, but its manifest has [triggers] crons; add `async scheduled(controller, env, ctx) { … }` to its default export")
	case !queue && len(m.Queues.Consumers) > 0:
		return runtime.Errorf(runtime.Exception, "the worker has no queue handler, but its manifest consumes a queue; add `async queue(batch, env, ctx) { … }` to its default export")
	}
	return nil
}

// handles reports whether the worker has a handler for event.
func (in *instance) handles(event string) bool {
	_, ok := goja.AssertFunction(in.handlers.Get(event))
	return ok
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
	id, traceID := "", ""
	if in.inv != nil {
		id, traceID = in.inv.id, observe.TraceID(in.inv.ctx)
	}
	s.Logs.Write(logs.Entry{Time: time.Now(), Service: s.Service, Version: s.Version, RequestID: id, TraceID: traceID, Level: level, Message: msg})
}

// Close releases the instance. Work it still runs in the background
// (ctx.waitUntil after a response) finishes first.
func (in *instance) Close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.closed = true
	governor.unregister(in.slot)
	in.vmRef.Store(nil)
	in.vm = nil
	in.loop = nil
	in.classes = nil
	in.programs = nil
	in.globals = nil
	in.handlers, in.handlerClass, in.env = nil, nil, nil
}

// valueCache holds JS values the Go side reuses in a runtime.
type valueCache struct {
	jsonStringify goja.Callable
	jsonParse     goja.Callable
	arrayValues   goja.Callable
	uint8Array    goja.Value
	objectProto   *goja.Object
	arrayProto    *goja.Object
}

func (in *instance) stringify() goja.Callable {
	if in.cache.jsonStringify == nil {
		in.cache.jsonStringify, _ = goja.AssertFunction(in.vm.Get("JSON").ToObject(in.vm).Get("stringify"))
	}
	return in.cache.jsonStringify
}

func (in *instance) jsonParse() goja.Callable {
	if in.cache.jsonParse == nil {
		in.cache.jsonParse, _ = goja.AssertFunction(in.vm.Get("JSON").ToObject(in.vm).Get("parse"))
	}
	return in.cache.jsonParse
}
