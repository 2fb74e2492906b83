package js

import (
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// goja's built-ins run as Go code that cannot be interrupted and has no
// memory limit: one call such as new ArrayBuffer(2 ** 40), 'x'.repeat(2 **
// 31) or [].forEach.call({length: 2 ** 40}, f) would allocate or loop
// without end and take the node down with it. Before the worker runs,
// the built-ins whose cost is set by a size argument or by `length` are
// wrapped to refuse sizes past the service's memory limit with a
// RangeError. docs/security.md lists what is and is not covered.

// arrayLengthMethods walk 0..length natively, holes included.
// (at, pop and push do not: measured with an array of length 2 ** 31.)
var arrayLengthMethods = []string{
	"concat", "copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast",
	"findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "lastIndexOf", "map",
	"reduce", "reduceRight", "reverse", "shift", "slice", "some", "sort", "splice", "toLocaleString",
	"toReversed", "toSorted", "toSpliced", "toString", "unshift", "with",
}

var typedArrays = []string{
	"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
	"Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
}

func (in *instance) installGuards() {
	vm := in.vm
	maxBytes := in.mod.limits.memoryBytes()
	maxElems, maxChars := maxBytes/16, maxBytes/2
	tooBig := func(what string) {
		in.throwError("RangeError", what+" is larger than this service's memory limit allows")
	}
	wrap := func(o *goja.Object, name string, check func(this goja.Value, args []goja.Value)) {
		orig, ok := goja.AssertFunction(o.Get(name))
		if !ok {
			return
		}
		_ = o.DefineDataProperty(name, vm.ToValue(func(call goja.FunctionCall) goja.Value {
			check(call.This, call.Arguments)
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}

	arrayCtor := in.globals.orig.Get("Array").ToObject(vm)
	arrayProto := vm.NewArray().Prototype()
	checkArray := func(this goja.Value, _ []goja.Value) {
		if lengthOf(this) > maxElems {
			tooBig("The array")
		}
	}
	for _, m := range arrayLengthMethods {
		wrap(arrayProto, m, checkArray)
	}
	wrap(arrayProto, "join", func(this goja.Value, args []goja.Value) {
		n := lengthOf(this)
		if n > maxElems {
			tooBig("The array")
		}
		sep := int64(1)
		if v := arg(args, 0); !goja.IsUndefined(v) {
			sep = int64(len(v.String()))
		}
		if n*sep > maxChars {
			tooBig("The joined string")
		}
	})
	wrap(arrayCtor, "from", func(_ goja.Value, args []goja.Value) {
		if o, ok := arg(args, 0).(*goja.Object); ok && o.GetSymbol(goja.SymIterator) == nil && lengthOf(o) > maxElems {
			tooBig("The array")
		}
	})

	strProto := vm.ToValue("").ToObject(vm).Prototype()
	wrap(strProto, "repeat", func(this goja.Value, args []goja.Value) {
		n := arg(args, 0).ToFloat()
		if n > 0 && float64(len(this.String()))*n > float64(maxChars) {
			tooBig("The repeated string")
		}
	})
	for _, m := range []string{"padStart", "padEnd"} {
		wrap(strProto, m, func(_ goja.Value, args []goja.Value) {
			if arg(args, 0).ToFloat() > float64(maxChars) {
				tooBig("The padded string")
			}
		})
	}

	// ArrayBuffer is guarded now: buffers made in Go lead to its
	// constructor (buf.constructor) without the global being named.
	// Typed arrays are guarded when first named (typedArrayGlobal).
	in.globals.cache["ArrayBuffer"] = in.guardedConstructor("ArrayBuffer", 1, false)
}

// guardedConstructor replaces a built-in constructor whose size argument
// must stay within the memory limit. It keeps the original's prototype and
// statics (by inheritance) and makes the prototype's constructor point
// at it, so species lookups come back through the guard.
func (in *instance) guardedConstructor(name string, size int64, lengthArg bool) goja.Value {
	vm := in.vm
	maxBytes := in.mod.limits.memoryBytes()
	orig := in.globals.orig.Get(name).ToObject(vm)
	proto := orig.Get("prototype").ToObject(vm)
	w := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
		a := arg(call.Arguments, 0)
		if o, ok := a.(*goja.Object); ok {
			if lengthArg {
				if _, isBuf := o.Export().(goja.ArrayBuffer); !isBuf && lengthOf(o)*size > maxBytes {
					in.throwError("RangeError", "The "+name+" is larger than this service's memory limit allows")
				}
			}
		} else if !goja.IsUndefined(a) && a.ToFloat()*float64(size) > float64(maxBytes) {
			in.throwError("RangeError", "The "+name+" is larger than this service's memory limit allows")
		}
		o, err := vm.New(orig, call.Arguments...)
		if err != nil {
			panic(err)
		}
		if p := call.This.Prototype(); p != nil && p != proto {
			_ = o.SetPrototype(p) // a subclass
		}
		if ab, ok := o.Export().(goja.ArrayBuffer); ok {
			in.noteBufferAlloc(int64(len(ab.Bytes())))
		} else if b, ok := in.bufferBytes(o); ok {
			in.noteBufferAlloc(int64(len(b)))
		}
		return o
	}).(*goja.Object)
	_ = w.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = w.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = w.SetPrototype(orig) // statics (from, of, isView, BYTES_PER_ELEMENT) by inheritance
	_ = proto.DefineDataProperty("constructor", w, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return w
}

func init() {
	sizes := []int64{1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8}
	for i, name := range typedArrays {
		size := sizes[i]
		defineGlobal(name, func(in *instance) goja.Value { return in.guardedConstructor(name, size, true) })
	}
	// esbuild's output and the streams prelude look up Symbol.asyncIterator,
	// which goja lacks; esbuild falls back to this registered symbol.
	defineGlobal("Symbol", func(in *instance) goja.Value {
		symbol := in.globals.orig.Get("Symbol").ToObject(in.vm)
		if v := symbol.Get("asyncIterator"); v == nil || goja.IsUndefined(v) {
			forFn, _ := goja.AssertFunction(symbol.Get("for"))
			if s, err := forFn(symbol, in.vm.ToValue("Symbol.asyncIterator")); err == nil {
				_ = symbol.DefineDataProperty("asyncIterator", s, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
			}
		}
		return symbol
	})
	defineGlobal("globalThis", func(in *instance) goja.Value { return in.vm.GlobalObject() })
}

// lengthOf is ToLength(o.length), capped.
func lengthOf(v goja.Value) int64 {
	o, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	l := o.Get("length")
	if l == nil {
		return 0
	}
	f := l.ToFloat()
	if !(f > 0) {
		return 0
	}
	if f > 1<<62 {
		return 1 << 62
	}
	return int64(f)
}

// regexpTimeout bounds one match of a regular expression goja runs with
// backtracking (regexp2: lookaround, backreferences), which an interrupt
// cannot stop. A match that runs out of time reports no match, as goja
// treats regexp2's timeout error.
const regexpTimeout = time.Second

func init() { regexp2.DefaultMatchTimeout = regexpTimeout }
