package js

import (
	"context"
	"io"

	"github.com/dop251/goja"
)

// Promises settled by Go work, and the glue between Go bodies and JS
// streams.

// offLoop runs work on a goroutine and returns a promise. work returns a
// function that makes the result on the loop (it may throw to reject), or
// an error, which rejects the promise with a TypeError naming it. The
// promise settles on the instance's loop, exactly once; if the
// invocation ends first it never settles and its result is dropped.
func (in *instance) offLoop(work func() (func() goja.Value, error)) goja.Value {
	p, resolve, reject := in.vm.NewPromise()
	post := in.loop.hold()
	go func() {
		mk, err := work()
		post(func() error {
			if err != nil {
				_ = reject(in.vm.NewTypeError("%s", err.Error()))
				return nil
			}
			var v goja.Value
			if ex := in.vm.Try(func() { v = mk() }); ex != nil {
				_ = reject(ex.Value())
				return nil
			}
			_ = resolve(v)
			return nil
		})
	}()
	return in.vm.ToValue(p)
}

// invocationContext is the context of the invocation running, for host
// work started from JS.
func (in *instance) invocationContext() context.Context {
	if in.inv != nil {
		return in.inv.ctx
	}
	return context.Background()
}

// then attaches fn as p's fulfillment handler and returns the new promise.
func (in *instance) then(p goja.Value, fn func(goja.Value) goja.Value) goja.Value {
	o := p.ToObject(in.vm)
	thenFn, ok := goja.AssertFunction(o.Get("then"))
	if !ok {
		panic(in.vm.NewTypeError("not a promise"))
	}
	cb := in.vm.ToValue(func(call goja.FunctionCall) goja.Value { return fn(arg(call.Arguments, 0)) })
	v, err := thenFn(o, cb)
	if err != nil {
		panic(err)
	}
	return v
}

// isReadableStream reports whether o is a ReadableStream of this runtime.
func (in *instance) isReadableStream(o *goja.Object) bool {
	if _, ok := in.programs["streams"]; !ok {
		return false // no stream can exist before the streams program ran
	}
	v, err := in.programFunc("streams", "isStream")(goja.Undefined(), o)
	return err == nil && v.ToBoolean()
}

func (in *instance) streamLocked(s *goja.Object) bool {
	v, err := in.programFunc("streams", "isLocked")(goja.Undefined(), s)
	return err == nil && v.ToBoolean()
}

func (in *instance) streamDisturbed(s *goja.Object) bool {
	v, err := in.programFunc("streams", "isDisturbed")(goja.Undefined(), s)
	return err == nil && v.ToBoolean()
}

// readerStream makes a JS ReadableStream reading a Go body chunk by chunk.
func (in *instance) readerStream(r io.ReadCloser) *goja.Object {
	pull := in.vm.ToValue(func(goja.FunctionCall) goja.Value {
		return in.offLoop(func() (func() goja.Value, error) {
			buf := make([]byte, 32<<10)
			n, err := r.Read(buf)
			if n > 0 {
				return func() goja.Value { return in.newUint8Array(buf[:n]) }, nil
			}
			if err == io.EOF {
				r.Close()
				return func() goja.Value { return goja.Undefined() }, nil
			}
			if err != nil {
				r.Close()
				return nil, err
			}
			return func() goja.Value { return in.newUint8Array(nil) }, nil
		})
	})
	cancel := in.vm.ToValue(func(goja.FunctionCall) goja.Value { r.Close(); return goja.Undefined() })
	s, err := in.programFunc("streams", "fromPull")(goja.Undefined(), pull, cancel)
	if err != nil {
		panic(err)
	}
	return s.(*goja.Object)
}
