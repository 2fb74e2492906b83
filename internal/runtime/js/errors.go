package js

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Values a VM is interrupted with.
var (
	errInterrupted = errors.New("deadline")
	errMemory      = errors.New("memory")
)

// throwTypeError throws a JS TypeError from a Go function called by JS.
func (in *instance) throwTypeError(msg string) {
	panic(in.vm.NewTypeError("%s", msg))
}

// throwError throws a JS error of a built-in kind (Error, RangeError, …).
func (in *instance) throwError(kind, msg string) {
	panic(in.newError(kind, msg))
}

func (in *instance) newError(kind, msg string) *goja.Object {
	ctor := in.vm.Get(kind)
	o, err := in.vm.New(ctor, in.vm.ToValue(msg))
	if err != nil {
		return in.vm.NewTypeError("%s", msg)
	}
	return o
}

// throwDOM throws a DOMException named name ("InvalidCharacterError", …).
func (in *instance) throwDOM(name, msg string) {
	panic(in.newDOMException(name, msg))
}

func (in *instance) newDOMException(name, msg string) *goja.Object {
	o, err := in.vm.New(in.global("DOMException"), in.vm.ToValue(msg), in.vm.ToValue(name))
	if err != nil {
		return in.newError("Error", name+": "+msg)
	}
	return o
}

// rejected returns a promise rejected with reason.
func (in *instance) rejected(reason goja.Value) goja.Value {
	p, _, reject := in.vm.NewPromise()
	_ = reject(reason)
	return in.vm.ToValue(p)
}

// resolved returns a promise fulfilled with v.
func (in *instance) resolved(v any) goja.Value {
	p, resolve, _ := in.vm.NewPromise()
	_ = resolve(v)
	return in.vm.ToValue(p)
}

// promiseTry runs fn and returns a promise of its result; a JS exception
// thrown by fn rejects the promise instead of propagating.
func (in *instance) promiseTry(fn func() goja.Value) (out goja.Value) {
	defer func() {
		if r := recover(); r != nil {
			if v, ok := thrownValue(r); ok {
				out = in.rejected(v)
				return
			}
			panic(r)
		}
	}()
	return in.resolved(fn())
}

// thrownValue extracts the JS value of a panic raised to throw into JS.
func thrownValue(r any) (goja.Value, bool) {
	switch x := r.(type) {
	case *goja.Object:
		return x, true
	case goja.Value:
		return x, true
	case *goja.Exception:
		return x.Value(), true
	}
	return nil, false
}

// describe renders a thrown value as "Error: message" plus its stack.
func describe(v goja.Value) string {
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
	if errors.As(err, &ie) && ie.Value() == errMemory {
		return in.memoryError()
	}
	if errors.As(err, &ie) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return runtime.Errorf(runtime.Timeout, "the worker exceeded its time limit of %dms", in.mod.limits.timeoutMS)
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
		return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught " + describe(ex.Value())}
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

func (in *instance) memoryError() error {
	return runtime.Errorf(runtime.Crash, "the worker exceeded its memory limit of %d MB and was stopped", in.mod.limits.memoryMB)
}

func (in *instance) rejection(reason goja.Value) error {
	return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught (in promise) " + describe(reason)}
}

// typeOf names a JS value's type for error messages.
func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if c := o.Get("constructor"); c != nil {
			if co, ok := c.(*goja.Object); ok {
				if n := co.Get("name"); n != nil && n.String() != "" {
					return article(n.String())
				}
			}
		}
		return "an object"
	}
	return article(v.ExportType().String())
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("AEIOUaeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
