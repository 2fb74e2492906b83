package js

import (
	"net/http"
	"net/textproto"
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// Headers: https://fetch.spec.whatwg.org/#headers-class, with workerd's
// messages. Incoming request headers stay in the gateway's http.Header
// until a worker changes or iterates them: get() and has() read it in
// place.

type hpair struct{ name, value string } // name is lowercase

type headers struct {
	base
	in        *instance
	list      []hpair     // in insertion order
	src       http.Header // not yet copied into list (canonical keys)
	immutable bool
}

var headersClass = defineClass(&classDef{
	name:     "Headers",
	iterator: "entries",
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		h := &headers{in: in}
		h.fill(arg(args, 0))
		return in.wrapProto(proto, h)
	},
	methods: map[string]method{
		"append": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			h.append(headerName(in, arg(args, 0)), headerValue(in, arg(args, 1)))
			return goja.Undefined()
		},
		"set": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			h.set(headerName(in, arg(args, 0)), headerValue(in, arg(args, 1)))
			return goja.Undefined()
		},
		"delete": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			h.delete(headerName(in, arg(args, 0)))
			return goja.Undefined()
		},
		"get": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			if v, ok := h.get(headerName(in, arg(args, 0))); ok {
				return in.vm.ToValue(v)
			}
			return goja.Null()
		},
		"has": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			_, ok := h.get(headerName(in, arg(args, 0)))
			return in.vm.ToValue(ok)
		},
		"getSetCookie": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.stringArray(thisAs[*headers](in, this).values("set-cookie"))
		},
		"getAll": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			name := headerName(in, arg(args, 0))
			if name != "set-cookie" {
				in.throwTypeError("getAll() can only be used with the header name \"Set-Cookie\".")
			}
			return in.stringArray(h.values(name))
		},
		"forEach": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			h := thisAs[*headers](in, this)
			cb, ok := goja.AssertFunction(arg(args, 0))
			if !ok {
				in.throwTypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.")
			}
			for _, p := range h.sorted() {
				if _, err := cb(arg(args, 1), in.vm.ToValue(p.value), in.vm.ToValue(p.name), this); err != nil {
					panic(err)
				}
			}
			return goja.Undefined()
		},
		"entries": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			pairs := thisAs[*headers](in, this).sorted()
			items := make([]any, len(pairs))
			for i, p := range pairs {
				items[i] = in.vm.NewArray(p.name, p.value)
			}
			return in.arrayIterator(items)
		},
		"keys": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			pairs := thisAs[*headers](in, this).sorted()
			items := make([]any, len(pairs))
			for i, p := range pairs {
				items[i] = p.name
			}
			return in.arrayIterator(items)
		},
		"values": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			pairs := thisAs[*headers](in, this).sorted()
			items := make([]any, len(pairs))
			for i, p := range pairs {
				items[i] = p.value
			}
			return in.arrayIterator(items)
		},
	},
})

func init() { defineGlobal("Headers", classGlobal(headersClass)) }

func (h *headers) Get(key string) goja.Value         { return h.expando.get(key) }
func (h *headers) Set(key string, v goja.Value) bool { h.setExpando(key, v); return true }

// newHeaders makes an empty Headers object.
func (in *instance) newHeaders(h *headers) *goja.Object { return in.wrap(headersClass, h) }

// fill appends init (a HeadersInit) to h.
func (h *headers) fill(init goja.Value) {
	in := h.in
	if isNullish(init) {
		return
	}
	o, ok := init.(*goja.Object)
	if !ok {
		in.throwTypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.")
	}
	if other, ok := o.Export().(*headers); ok {
		other.materialize()
		h.list = append(h.list, other.list...)
		return
	}
	if iter, ok := goja.AssertFunction(o.GetSymbol(goja.SymIterator)); ok && iter != nil {
		in.vm.ForOf(o, func(pair goja.Value) bool {
			var kv []goja.Value
			if po, ok := pair.(*goja.Object); ok {
				in.vm.ForOf(po, func(x goja.Value) bool { kv = append(kv, x); return true })
			} else {
				in.throwTypeError("Failed to construct 'Headers': The provided value cannot be converted to a sequence.")
			}
			if len(kv) != 2 {
				in.throwTypeError("Failed to construct 'Headers': Invalid value")
			}
			h.append(headerName(in, kv[0]), headerValue(in, kv[1]))
			return true
		})
		return
	}
	for _, k := range o.Keys() {
		h.append(headerName(in, in.vm.ToValue(k)), headerValue(in, o.Get(k)))
	}
}

// materialize copies the gateway's header map into the list.
func (h *headers) materialize() {
	if h.src == nil {
		return
	}
	n := 0
	for _, vs := range h.src {
		n += len(vs)
	}
	list := make([]hpair, 0, n)
	for k, vs := range h.src {
		lk := lowerASCII(k)
		for _, v := range vs {
			list = append(list, hpair{lk, v})
		}
	}
	h.list = list
	h.src = nil
}

func (h *headers) checkMutable() {
	if h.immutable {
		h.in.throwTypeError("Can't modify immutable headers.")
	}
}

func (h *headers) append(name, value string) {
	h.checkMutable()
	h.materialize()
	h.list = append(h.list, hpair{name, value})
}

func (h *headers) set(name, value string) {
	h.checkMutable()
	h.materialize()
	for i := range h.list {
		if h.list[i].name == name {
			h.list[i].value = value
			j := i + 1
			for k := i + 1; k < len(h.list); k++ {
				if h.list[k].name != name {
					h.list[j] = h.list[k]
					j++
				}
			}
			h.list = h.list[:j]
			return
		}
	}
	h.list = append(h.list, hpair{name, value})
}

func (h *headers) delete(name string) {
	h.checkMutable()
	h.materialize()
	j := 0
	for _, p := range h.list {
		if p.name != name {
			h.list[j] = p
			j++
		}
	}
	h.list = h.list[:j]
}

// get combines the values of name with ", ".
func (h *headers) get(name string) (string, bool) {
	if h.src != nil {
		vs := h.src[textproto.CanonicalMIMEHeaderKey(name)]
		switch len(vs) {
		case 0:
			return "", false
		case 1:
			return vs[0], true
		}
		return strings.Join(vs, ", "), true
	}
	var out string
	found := false
	for _, p := range h.list {
		if p.name == name {
			if found {
				out += ", " + p.value
			} else {
				out, found = p.value, true
			}
		}
	}
	return out, found
}

func (h *headers) values(name string) []string {
	h.materialize()
	var out []string
	for _, p := range h.list {
		if p.name == name {
			out = append(out, p.value)
		}
	}
	return out
}

// sorted is the iteration order: names sorted, values of a name combined,
// set-cookie kept one per entry.
func (h *headers) sorted() []hpair {
	h.materialize()
	names := make([]string, 0, len(h.list))
	seen := make(map[string]bool, len(h.list))
	for _, p := range h.list {
		if !seen[p.name] {
			seen[p.name] = true
			names = append(names, p.name)
		}
	}
	sort.Strings(names)
	out := make([]hpair, 0, len(names))
	for _, n := range names {
		if n == "set-cookie" {
			for _, v := range h.values(n) {
				out = append(out, hpair{n, v})
			}
			continue
		}
		v, _ := h.get(n)
		out = append(out, hpair{n, v})
	}
	return out
}

// each calls fn for every header as it would be sent, in list order.
func (h *headers) each(fn func(name, value string)) {
	if h.src != nil {
		for k, vs := range h.src {
			for _, v := range vs {
				fn(lowerASCII(k), v)
			}
		}
		return
	}
	for _, p := range h.list {
		fn(p.name, p.value)
	}
}

// headerName validates a header name (an HTTP token) and lowercases it.
func headerName(in *instance, v goja.Value) string {
	s := in.toString(v)
	lower := true // workerd accepts an empty name; the spec does not
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isTokenChar(c) {
			in.throwTypeError("Invalid header name.")
		}
		if c >= 'A' && c <= 'Z' {
			lower = false
		}
	}
	if lower {
		return s
	}
	return strings.ToLower(s)
}

// headerValue normalizes a header value: leading and trailing HTTP
// whitespace removed; NUL, CR and LF refused.
func headerValue(in *instance, v goja.Value) string {
	s := strings.Trim(in.toString(v), "\t\n\r ")
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\r' || c == '\n' {
			in.throwTypeError("Invalid header value.")
		}
	}
	return s
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// toString is WebIDL's DOMString conversion (a Symbol throws).
func (in *instance) toString(v goja.Value) string {
	if s, ok := v.(goja.String); ok {
		return s.String()
	}
	if _, ok := v.(*goja.Symbol); ok {
		in.throwTypeError("Cannot convert a Symbol value to a string")
	}
	if v == nil {
		return "undefined"
	}
	return v.String()
}

// stringArray makes a JS array of strings.
func (in *instance) stringArray(ss []string) goja.Value {
	items := make([]any, len(ss))
	for i, s := range ss {
		items[i] = s
	}
	return in.vm.NewArray(items...)
}

// arrayIterator returns an iterator over items (an Array Iterator).
func (in *instance) arrayIterator(items []any) goja.Value {
	arr := in.vm.NewArray(items...)
	if in.cache.arrayValues == nil {
		proto := in.vm.Get("Array").ToObject(in.vm).Get("prototype").ToObject(in.vm)
		in.cache.arrayValues, _ = goja.AssertFunction(proto.Get("values"))
	}
	it, err := in.cache.arrayValues(arr)
	if err != nil {
		panic(err)
	}
	return it
}
