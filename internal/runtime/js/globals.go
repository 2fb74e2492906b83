package js

import (
	"github.com/dop251/goja"
)

// The Web API globals are made on first use. The global object's
// prototype is a dynamic object (globalScope) that builds a global the
// first time code names it and keeps it: a new runtime costs about the
// same with fifty APIs as with none, and a worker pays only for what it
// touches. Code that assigns a global (globalThis.fetch = …) shadows ours,
// as it would on Workers.

// globalFactory builds one global in a runtime.
type globalFactory func(in *instance) goja.Value

var globalFactories = map[string]globalFactory{}

func defineGlobal(name string, f globalFactory) { globalFactories[name] = f }

// classGlobal exposes a Go-native class's constructor.
func classGlobal(d *classDef) globalFactory {
	return func(in *instance) goja.Value { return in.class(d).ctor }
}

// funcGlobal exposes a Go function.
func funcGlobal(fn method) globalFactory {
	return func(in *instance) goja.Value { return in.nativeMethod(fn) }
}

// programGlobal exposes one export of a prelude program.
func programGlobal(prog, name string) globalFactory {
	programNamed(prog)
	return func(in *instance) goja.Value {
		exp := in.programExports(prog)
		return exp.Get(name)
	}
}

// globalScope is the dynamic object between the global object and
// goja's own (orig): lookups that miss the global come here, then go on
// to goja's built-ins, so it can also stand in for a built-in (a guarded
// Uint8Array) made only when first named.
type globalScope struct {
	in    *instance
	cache map[string]goja.Value
	orig  *goja.Object
}

func (g *globalScope) Get(key string) goja.Value {
	if v, ok := g.cache[key]; ok {
		return v
	}
	f, ok := globalFactories[key]
	if !ok {
		return nil
	}
	v := f(g.in)
	g.cache[key] = v
	return v
}

func (g *globalScope) Has(key string) bool {
	if _, ok := g.cache[key]; ok {
		return true
	}
	_, ok := globalFactories[key]
	return ok
}

func (g *globalScope) Set(key string, v goja.Value) bool { g.cache[key] = v; return true }
func (g *globalScope) Delete(key string) bool            { delete(g.cache, key); return true }
func (g *globalScope) Keys() []string                    { return nil }

// global returns a Web API global of this runtime (made if needed).
func (in *instance) global(name string) goja.Value { return in.globals.Get(name) }

// programExports runs a prelude program once in this runtime and returns
// its exports.
func (in *instance) programExports(name string) *goja.Object {
	if o, ok := in.programs[name]; ok {
		return o
	}
	p := programs[name]
	prog, err := p.compiled()
	if err != nil {
		panic(in.vm.NewGoError(err))
	}
	fnv, err := in.vm.RunProgram(prog)
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(fnv)
	v, err := fn(goja.Undefined(), in.hostObject())
	if err != nil {
		panic(err)
	}
	o := v.ToObject(in.vm)
	in.programs[name] = o
	return o
}

// programFunc returns a function exported by a prelude program.
func (in *instance) programFunc(prog, name string) goja.Callable {
	fn, ok := goja.AssertFunction(in.programExports(prog).Get(name))
	if !ok {
		panic("js: prelude " + prog + " does not export " + name)
	}
	return fn
}

// hostFuncs are the Go functions prelude programs call as host.NAME.
var hostFuncs = map[string]method{}

func defineHost(name string, fn method) { hostFuncs[name] = fn }

type hostScope struct {
	in    *instance
	cache map[string]goja.Value
}

func (h *hostScope) Get(key string) goja.Value {
	if v, ok := h.cache[key]; ok {
		return v
	}
	fn, ok := hostFuncs[key]
	if !ok {
		return nil
	}
	v := h.in.nativeMethod(fn)
	h.cache[key] = v
	return v
}
func (h *hostScope) Has(key string) bool         { _, ok := hostFuncs[key]; return ok }
func (h *hostScope) Set(string, goja.Value) bool { return false }
func (h *hostScope) Delete(string) bool          { return false }
func (h *hostScope) Keys() []string              { return nil }
func (in *instance) hostObject() *goja.Object    { return in.host }
func (in *instance) newHost() *goja.Object {
	return in.vm.NewDynamicObject(&hostScope{in: in, cache: map[string]goja.Value{}})
}

// unsupported names the Workers APIs wisp does not provide. Using one
// throws an Error naming it, never "undefined is not a function".
var unsupported = []string{
	"HTMLRewriter", "WebSocketPair", "WebSocket", "caches", "Cache", "CacheStorage",
	"EventSource", "MessageChannel", "MessagePort", "BroadcastChannel", "XMLHttpRequest",
	"Worker", "localStorage", "sessionStorage", "indexedDB", "WebAssembly",
	"CompressionStream", "DecompressionStream", "FixedLengthStream", "connect",
}

func init() {
	for _, name := range unsupported {
		defineGlobal(name, unsupportedGlobal(name))
	}
	defineGlobal("self", func(in *instance) goja.Value { return in.vm.GlobalObject() })
}

func unsupportedMessage(name string) string { return name + " is not supported by wisp" }

// unsupportedGlobal is a function (callable and constructible) behind a
// proxy whose every property read throws, so `new X()`, `X()` and
// `X.default.match()` all name the missing API.
func unsupportedGlobal(name string) globalFactory {
	return func(in *instance) goja.Value {
		msg := unsupportedMessage(name)
		target := in.vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
			in.throwError("Error", msg)
			return nil
		}).(*goja.Object)
		p := in.vm.NewProxy(target, &goja.ProxyTrapConfig{
			Get: func(t *goja.Object, prop string, _ goja.Value) goja.Value {
				switch prop {
				case "toString", "valueOf", "then", "name", "length", "prototype":
					return t.Get(prop) // keep String(x), await x and typeof checks harmless
				}
				in.throwError("Error", msg)
				return nil
			},
		})
		return in.vm.ToValue(p)
	}
}
