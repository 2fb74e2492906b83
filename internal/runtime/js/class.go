package js

import (
	"slices"

	"github.com/dop251/goja"
)

// Go-native Web classes.
//
// Request, Response, Headers, URL and the other hot classes are Go structs
// exposed to JS as goja dynamic objects: creating one costs two small
// allocations instead of the dozen a JS object with hidden properties
// costs, and Go reads them without reflection. A class is described once
// per process (classDef) and materialized per runtime on first use
// (classRT): its constructor, and a prototype whose methods are created
// lazily, one native function per method actually called. An instance
// answers its data attributes (status, url, …) itself and leaves methods
// to the prototype chain, so user code can still patch a prototype.

// method is a prototype method: this is the receiver as passed by JS.
type method func(in *instance, this goja.Value, args []goja.Value) goja.Value

// classDef describes a Go-native class. It is immutable after init.
type classDef struct {
	name string
	// construct builds an instance for `new Name(...args)`; proto is the
	// prototype the new object must get (a subclass's, under `extends`).
	// Nil means the class cannot be constructed from JS.
	construct func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object
	methods   map[string]method
	statics   map[string]method
	// iterator names the method that Symbol.iterator aliases ("entries").
	iterator string
	parent   *classDef // for `File extends Blob`
	// attrs are the attributes instances answer themselves (for `in`).
	attrs []string
	id    int
}

var classDefs []*classDef

// defineClass registers a class; call it from package init.
func defineClass(d *classDef) *classDef {
	d.id = len(classDefs)
	classDefs = append(classDefs, d)
	return d
}

// classRT is a class materialized in one runtime.
type classRT struct {
	def    *classDef
	ctor   *goja.Object // a proxy of target
	target *goja.Object
	proto  *goja.Object // a dynamic object backed by protoObject
	po     *protoObject
}

// class returns d materialized in this instance's runtime.
func (in *instance) class(d *classDef) *classRT {
	if c := in.classes[d.id]; c != nil {
		return c
	}
	vm := in.vm
	c := &classRT{def: d}
	in.classes[d.id] = c
	c.po = &protoObject{in: in, c: c, fns: make(map[string]goja.Value, 4)}
	c.proto = vm.NewDynamicObject(c.po)
	// Symbols cannot live on a dynamic object: they go on a plain object
	// between the prototype and its parent.
	syms := vm.NewObject()
	_ = syms.DefineDataPropertySymbol(goja.SymToStringTag, vm.ToValue(d.name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if d.iterator != "" {
		_ = syms.DefineDataPropertySymbol(goja.SymIterator, c.po.Get(d.iterator), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	if d.parent != nil {
		_ = syms.SetPrototype(in.class(d.parent).proto)
	}
	_ = c.proto.SetPrototype(syms)

	// The constructor is a proxy: its construct trap gets new.target
	// (subclasses) and no object is made for `this` only to be thrown
	// away; its apply trap refuses a call without new, as Workers does.
	target := vm.ToValue(func(call goja.ConstructorCall) *goja.Object { return nil }).(*goja.Object)
	construct := d.construct
	c.ctor = vm.ToValue(vm.NewProxy(target, &goja.ProxyTrapConfig{
		Construct: func(_ *goja.Object, args []goja.Value, newTarget *goja.Object) *goja.Object {
			if construct == nil {
				in.throwTypeError("Illegal constructor")
			}
			proto := c.proto
			if newTarget != nil && newTarget != c.ctor {
				if p, ok := newTarget.Get("prototype").(*goja.Object); ok {
					proto = p
				}
			}
			return construct(in, args, proto)
		},
		Apply: func(*goja.Object, goja.Value, []goja.Value) goja.Value {
			in.throwTypeError("Failed to construct '" + d.name + "': Please use the 'new' operator, this object constructor cannot be called as a function.")
			return nil
		},
	})).(*goja.Object)
	c.target = target
	_ = target.DefineDataProperty("prototype", c.proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = target.DefineDataProperty("name", vm.ToValue(d.name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if d.parent != nil {
		_ = target.SetPrototype(in.class(d.parent).ctor)
	}
	for name, fn := range d.statics {
		_ = target.DefineDataProperty(name, in.nativeMethod(fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	// goja's instanceof does not see through a proxy: the class answers
	// it itself, as OrdinaryHasInstance would (this is the constructor
	// on the right, a subclass's included).
	_ = target.DefineDataPropertySymbol(goja.SymHasInstance, vm.ToValue(func(call goja.FunctionCall) goja.Value {
		ctor, ok := call.This.(*goja.Object)
		if !ok {
			return vm.ToValue(false)
		}
		proto, ok := ctor.Get("prototype").(*goja.Object)
		o, isObj := arg(call.Arguments, 0).(*goja.Object)
		if !ok || !isObj {
			return vm.ToValue(false)
		}
		for p := o.Prototype(); p != nil; p = p.Prototype() {
			if p == proto {
				return vm.ToValue(true)
			}
		}
		return vm.ToValue(false)
	}), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return c
}

// nativeMethod wraps a method as a JS function of this runtime.
func (in *instance) nativeMethod(fn method) goja.Value {
	return in.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		return fn(in, call.This, call.Arguments)
	})
}

// wrap makes a JS object for a Go-native value of class d.
func (in *instance) wrap(d *classDef, v goja.DynamicObject) *goja.Object {
	o := in.vm.NewDynamicObject(v)
	_ = o.SetPrototype(in.class(d).proto)
	return o
}

// wrapProto is wrap with an explicit prototype (a subclass's).
func (in *instance) wrapProto(proto *goja.Object, v goja.DynamicObject) *goja.Object {
	o := in.vm.NewDynamicObject(v)
	_ = o.SetPrototype(proto)
	return o
}

// protoObject is the prototype of a Go-native class. Its methods are made
// on first access; properties set by user code shadow them.
type protoObject struct {
	in  *instance
	c   *classRT
	fns map[string]goja.Value
	expando
}

func (p *protoObject) Get(key string) goja.Value {
	if v := p.expando.get(key); v != nil {
		return v
	}
	if p.expando.deleted(key) {
		return nil
	}
	if v, ok := p.fns[key]; ok {
		return v
	}
	if key == "constructor" {
		return p.c.ctor
	}
	m, ok := p.c.def.methods[key]
	if !ok {
		return nil
	}
	v := p.in.nativeMethod(m)
	p.fns[key] = v
	return v
}

func (p *protoObject) Has(key string) bool {
	if p.expando.has(key) {
		return true
	}
	if p.expando.deleted(key) {
		return false
	}
	if _, ok := p.c.def.methods[key]; ok || key == "constructor" {
		return true
	}
	for _, a := range p.c.def.attrs {
		if a == key {
			return true
		}
	}
	return false
}

func (p *protoObject) Set(key string, v goja.Value) bool { p.expando.set(key, v); return true }
func (p *protoObject) Delete(key string) bool            { p.expando.del(key); return true }
func (p *protoObject) Keys() []string                    { return p.expando.keys() }

// expando holds the own properties user code sets on a Go-native object.
// Most objects never get one, so it costs nothing until used.
type expando struct {
	props map[string]goja.Value
	order []string
	gone  map[string]bool // built-in members deleted by user code
}

func (e *expando) get(key string) goja.Value {
	if e.props == nil {
		return nil
	}
	return e.props[key]
}

func (e *expando) has(key string) bool {
	if e.props == nil {
		return false
	}
	_, ok := e.props[key]
	return ok
}

func (e *expando) deleted(key string) bool { return e.gone != nil && e.gone[key] }

func (e *expando) set(key string, v goja.Value) {
	if e.props == nil {
		e.props = make(map[string]goja.Value, 2)
	}
	if _, ok := e.props[key]; !ok {
		e.order = append(e.order, key)
	}
	e.props[key] = v
	if e.gone != nil {
		delete(e.gone, key)
	}
}

func (e *expando) del(key string) {
	if e.props != nil {
		if _, ok := e.props[key]; ok {
			delete(e.props, key)
			e.order = slices.DeleteFunc(e.order, func(k string) bool { return k == key })
			return
		}
	}
	if e.gone == nil {
		e.gone = make(map[string]bool, 1)
	}
	e.gone[key] = true
}

func (e *expando) keys() []string { return slices.Clone(e.order) }

// Every Go-native instance embeds base: user-set properties are kept, and
// attempts to overwrite a read-only attribute fail as they would on a
// getter-only accessor (TypeError in strict code).
type base struct{ expando }

func (b *base) Has(key string) bool                 { return b.expando.has(key) }
func (b *base) Delete(key string) bool              { b.expando.del(key); return true }
func (b *base) Keys() []string                      { return b.expando.keys() }
func (b *base) setExpando(key string, v goja.Value) { b.expando.set(key, v) }

// this extracts the Go value behind a method's receiver, or throws the
// TypeError workerd throws for a wrong receiver.
func thisAs[T any](in *instance, this goja.Value) T {
	if o, ok := this.(*goja.Object); ok {
		if v, ok := o.Export().(T); ok {
			return v
		}
	}
	in.throwTypeError("Illegal invocation: function called with incorrect `this` reference.")
	var zero T
	return zero
}

// arg returns args[i] or undefined.
func arg(args []goja.Value, i int) goja.Value {
	if i < len(args) && args[i] != nil {
		return args[i]
	}
	return goja.Undefined()
}

func isNullish(v goja.Value) bool {
	return v == nil || goja.IsUndefined(v) || goja.IsNull(v)
}

// set fills in a class registered earlier (for classes whose methods
// refer to the class itself, which Go's initialization order forbids in
// the literal).
func (d *classDef) set(c classDef) {
	id := d.id
	*d = c
	d.id = id
}
