package js

import (
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/logs"
)

// Timers, microtasks, performance, navigator, scheduler, console and the
// exports of the JS prelude programs.

func init() {
	defineGlobal("setTimeout", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		return in.setTimer(args, false)
	}))
	defineGlobal("setInterval", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		return in.setTimer(args, true)
	}))
	clearTimer := funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		if v := arg(args, 0); !isNullish(v) {
			in.loop.clearTimer(v.ToInteger())
		}
		return goja.Undefined()
	})
	defineGlobal("clearTimeout", clearTimer)
	defineGlobal("clearInterval", clearTimer)
	defineGlobal("queueMicrotask", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		fn, ok := goja.AssertFunction(arg(args, 0))
		if !ok {
			in.throwTypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.")
		}
		p, resolve, _ := in.vm.NewPromise()
		in.then(in.vm.ToValue(p), func(goja.Value) goja.Value {
			if _, err := fn(goja.Undefined()); err != nil {
				in.reportError(errValue(in, err))
			}
			return goja.Undefined()
		})
		_ = resolve(goja.Undefined())
		return goja.Undefined()
	}))
	defineGlobal("reportError", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		in.reportError(arg(args, 0))
		return goja.Undefined()
	}))
	defineHost("reportError", func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		in.reportError(arg(args, 0))
		return goja.Undefined()
	})
	defineHost("log", func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		in.log(logs.Level(in.toString(arg(args, 0))), in.toString(arg(args, 1)))
		return goja.Undefined()
	})
	defineHost("limits", func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		b := in.mod.limits.memoryBytes()
		o := in.vm.NewObject()
		_ = o.Set("bytes", b)
		_ = o.Set("elements", b/16)
		_ = o.Set("chars", b/2)
		return o
	})

	defineGlobal("performance", func(in *instance) goja.Value {
		o := in.vm.NewObject()
		_ = o.Set("now", in.nativeMethod(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.vm.ToValue(float64(time.Since(in.created).Nanoseconds()) / 1e6)
		}))
		_ = o.Set("timeOrigin", float64(in.created.UnixNano())/1e6)
		return o
	})
	defineGlobal("navigator", func(in *instance) goja.Value {
		o := in.vm.NewObject()
		// Libraries detect the Workers runtime by this string.
		_ = o.Set("userAgent", "Cloudflare-Workers")
		_ = o.Set("hardwareConcurrency", 1)
		_ = o.Set("language", "en")
		_ = o.Set("languages", in.stringArray([]string{"en"}))
		return o
	})
	defineGlobal("scheduler", func(in *instance) goja.Value {
		o := in.vm.NewObject()
		_ = o.Set("wait", in.nativeMethod(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p, resolve, _ := in.vm.NewPromise()
			fn, _ := goja.AssertFunction(in.vm.ToValue(func(goja.FunctionCall) goja.Value { _ = resolve(goja.Undefined()); return nil }))
			in.loop.setTimer(fn, nil, arg(args, 0).ToFloat(), false)
			return in.vm.ToValue(p)
		}))
		return o
	})
	// The service-worker syntax registers handlers with addEventListener;
	// wisp runs module workers only.
	defineGlobal("addEventListener", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		switch t := in.toString(arg(args, 0)); t {
		case "fetch", "scheduled", "queue":
			in.throwError("Error", "addEventListener('"+t+"') (the service-worker syntax) is not supported by wisp: write `export default { async "+t+"(…) { … } }`")
		}
		return goja.Undefined()
	}))
	defineGlobal("removeEventListener", funcGlobal(func(in *instance, this goja.Value, args []goja.Value) goja.Value { return goja.Undefined() }))

	defineGlobal("console", programGlobal("console", "console"))
	defineGlobal("structuredClone", programGlobal("clone", "structuredClone"))
	for _, n := range []string{"DOMException", "Event", "CustomEvent", "EventTarget", "AbortSignal", "AbortController"} {
		defineGlobal(n, programGlobal("events", n))
	}
	for _, n := range []string{"ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamDefaultController",
		"WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
		"TransformStreamDefaultController", "IdentityTransformStream", "TextEncoderStream", "TextDecoderStream",
		"ByteLengthQueuingStrategy", "CountQueuingStrategy", "ReadableStreamBYOBReader", "ReadableByteStreamController"} {
		defineGlobal(n, programGlobal("streams", n))
	}
}

// setTimer is setTimeout/setInterval(fn, delay, ...args).
func (in *instance) setTimer(args []goja.Value, repeat bool) goja.Value {
	if in.ctx == nil {
		in.throwError("Error", errGlobalScope.Error())
	}
	fn, ok := goja.AssertFunction(arg(args, 0))
	if !ok {
		in.throwTypeError("The callback provided as parameter 1 is not a function; strings are not evaluated.")
	}
	delay := 0.0
	if v := arg(args, 1); !goja.IsUndefined(v) {
		if delay = v.ToFloat(); !(delay >= 0) {
			delay = 0
		}
	}
	var extra []goja.Value
	if len(args) > 2 {
		extra = append([]goja.Value(nil), args[2:]...)
	}
	return in.vm.ToValue(in.loop.setTimer(fn, extra, delay, repeat))
}

// reportError logs an error nobody caught, as workerd does.
func (in *instance) reportError(v goja.Value) {
	in.log(logs.Error, "Uncaught "+describe(v))
}
