package js

import (
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// URL and URLSearchParams: https://url.spec.whatwg.org/#api

type urlObject struct {
	base
	in     *instance
	u      *urlRec
	params *urlSearchParams
	pobj   *goja.Object
}

var urlClass = defineClass(&classDef{name: "URL"})

func init() {
	urlClass.set(classDef{
		attrs: []string{"href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "searchParams"},
		name:  "URL",
		construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
			if len(args) == 0 {
				in.throwTypeError("Failed to construct 'URL': 1 argument required, but only 0 present.")
			}
			u := in.parseURLArgs(arg(args, 0), arg(args, 1))
			if u == nil {
				in.throwTypeError("Invalid URL string.")
			}
			return in.wrapProto(proto, &urlObject{in: in, u: u})
		},
		methods: map[string]method{
			"toString": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				return in.vm.ToValue(thisAs[*urlObject](in, this).u.href())
			},
			"toJSON": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				return in.vm.ToValue(thisAs[*urlObject](in, this).u.href())
			},
		},
		statics: map[string]method{
			"canParse": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				return in.vm.ToValue(in.parseURLArgs(arg(args, 0), arg(args, 1)) != nil)
			},
			"parse": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				u := in.parseURLArgs(arg(args, 0), arg(args, 1))
				if u == nil {
					return goja.Null()
				}
				return in.wrap(urlClass, &urlObject{in: in, u: u})
			},
			"createObjectURL": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				in.throwError("Error", unsupportedMessage("URL.createObjectURL"))
				return nil
			},
			"revokeObjectURL": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				in.throwError("Error", unsupportedMessage("URL.revokeObjectURL"))
				return nil
			},
		},
	})
}

func init() { defineGlobal("URL", classGlobal(urlClass)) }

func (in *instance) parseURLArgs(input, base goja.Value) *urlRec {
	b := ""
	if !goja.IsUndefined(base) {
		b = in.toString(base)
		if b == "" {
			return nil
		}
	}
	u, err := parseURL(in.toString(input), b)
	if err != nil {
		return nil
	}
	return u
}

func (o *urlObject) Get(key string) goja.Value {
	in, u := o.in, o.u
	var s string
	switch key {
	case "href":
		s = u.href()
	case "origin":
		s = u.origin()
	case "protocol":
		s = u.scheme + ":"
	case "username":
		s = u.username
	case "password":
		s = u.password
	case "host":
		s = u.hostPort()
	case "hostname":
		s = u.host
	case "port":
		s = u.port
	case "pathname":
		s = u.path
	case "search":
		s = u.search()
	case "hash":
		s = u.hash()
	case "searchParams":
		if o.pobj == nil {
			o.params = &urlSearchParams{in: in, url: o, list: formParse(u.query)}
			o.pobj = in.wrap(urlSearchParamsClass, o.params)
		}
		return o.pobj
	default:
		return o.expando.get(key)
	}
	return in.vm.ToValue(s)
}

func (o *urlObject) Set(key string, v goja.Value) bool {
	in := o.in
	switch key {
	case "href":
		u, err := parseURL(in.toString(v), "")
		if err != nil {
			in.throwTypeError("Invalid URL string.")
		}
		o.u = u
		o.syncParams()
	case "protocol", "username", "password", "host", "hostname", "port", "pathname", "hash":
		o.u = o.u.set(key, in.toString(v))
	case "search":
		o.u = o.u.set(key, in.toString(v))
		o.syncParams()
	case "origin", "searchParams":
		return false
	default:
		o.setExpando(key, v)
	}
	return true
}

// syncParams re-reads searchParams after the query changed.
func (o *urlObject) syncParams() {
	if o.params != nil {
		o.params.list = formParse(o.u.query)
	}
}

// URLSearchParams

type urlSearchParams struct {
	base
	in   *instance
	list []pair
	url  *urlObject // the URL whose query this is, or nil
}

type pair struct{ name, value string }

var urlSearchParamsClass = defineClass(&classDef{
	name:     "URLSearchParams",
	iterator: "entries",
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		p := &urlSearchParams{in: in}
		p.fill(arg(args, 0))
		return in.wrapProto(proto, p)
	},
	methods: map[string]method{
		"append": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			p.list = append(p.list, pair{in.usvString(arg(args, 0)), in.usvString(arg(args, 1))})
			p.update()
			return goja.Undefined()
		},
		"delete": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			name := in.usvString(arg(args, 0))
			hasValue := !goja.IsUndefined(arg(args, 1))
			value := ""
			if hasValue {
				value = in.usvString(arg(args, 1))
			}
			j := 0
			for _, e := range p.list {
				if e.name == name && (!hasValue || e.value == value) {
					continue
				}
				p.list[j] = e
				j++
			}
			p.list = p.list[:j]
			p.update()
			return goja.Undefined()
		},
		"get": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			name := in.usvString(arg(args, 0))
			for _, e := range p.list {
				if e.name == name {
					return in.vm.ToValue(e.value)
				}
			}
			return goja.Null()
		},
		"getAll": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			name := in.usvString(arg(args, 0))
			var out []string
			for _, e := range p.list {
				if e.name == name {
					out = append(out, e.value)
				}
			}
			return in.stringArray(out)
		},
		"has": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			name := in.usvString(arg(args, 0))
			hasValue := !goja.IsUndefined(arg(args, 1))
			value := ""
			if hasValue {
				value = in.usvString(arg(args, 1))
			}
			for _, e := range p.list {
				if e.name == name && (!hasValue || e.value == value) {
					return in.vm.ToValue(true)
				}
			}
			return in.vm.ToValue(false)
		},
		"set": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			name, value := in.usvString(arg(args, 0)), in.usvString(arg(args, 1))
			found := false
			j := 0
			for _, e := range p.list {
				if e.name == name {
					if found {
						continue
					}
					found = true
					e.value = value
				}
				p.list[j] = e
				j++
			}
			p.list = p.list[:j]
			if !found {
				p.list = append(p.list, pair{name, value})
			}
			p.update()
			return goja.Undefined()
		},
		"sort": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			// Stable, by UTF-16 code units of the names.
			sort.SliceStable(p.list, func(i, j int) bool { return lessUTF16(p.list[i].name, p.list[j].name) })
			p.update()
			return goja.Undefined()
		},
		"forEach": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			cb, ok := goja.AssertFunction(arg(args, 0))
			if !ok {
				in.throwTypeError("Failed to execute 'forEach' on 'URLSearchParams': parameter 1 is not of type 'Function'.")
			}
			for i := 0; i < len(p.list); i++ {
				e := p.list[i]
				if _, err := cb(arg(args, 1), in.vm.ToValue(e.value), in.vm.ToValue(e.name), this); err != nil {
					panic(err)
				}
			}
			return goja.Undefined()
		},
		"entries": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			items := make([]any, len(p.list))
			for i, e := range p.list {
				items[i] = in.vm.NewArray(e.name, e.value)
			}
			return in.arrayIterator(items)
		},
		"keys": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			items := make([]any, len(p.list))
			for i, e := range p.list {
				items[i] = e.name
			}
			return in.arrayIterator(items)
		},
		"values": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			p := thisAs[*urlSearchParams](in, this)
			items := make([]any, len(p.list))
			for i, e := range p.list {
				items[i] = e.value
			}
			return in.arrayIterator(items)
		},
		"toString": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.vm.ToValue(thisAs[*urlSearchParams](in, this).String())
		},
	},
})

func init() { defineGlobal("URLSearchParams", classGlobal(urlSearchParamsClass)) }

func (p *urlSearchParams) Get(key string) goja.Value {
	if key == "size" {
		return p.in.vm.ToValue(len(p.list))
	}
	return p.expando.get(key)
}

func (p *urlSearchParams) Set(key string, v goja.Value) bool {
	if key == "size" {
		return false
	}
	p.setExpando(key, v)
	return true
}

func (p *urlSearchParams) String() string { return formSerialize(p.list) }

// update writes the list back to the URL it belongs to.
func (p *urlSearchParams) update() {
	if p.url == nil {
		return
	}
	u := *p.url.u
	u.raw = ""
	s := p.String()
	u.query, u.hasQuery = s, s != ""
	p.url.u = &u
}

// fill applies a URLSearchParams constructor argument.
func (p *urlSearchParams) fill(init goja.Value) {
	in := p.in
	if isNullish(init) {
		return
	}
	o, ok := init.(*goja.Object)
	if !ok {
		s := in.usvString(init)
		s = strings.TrimPrefix(s, "?")
		p.list = formParse(s)
		return
	}
	if other, ok := o.Export().(*urlSearchParams); ok {
		p.list = append([]pair(nil), other.list...)
		return
	}
	if iter, ok := goja.AssertFunction(o.GetSymbol(goja.SymIterator)); ok && iter != nil {
		in.vm.ForOf(o, func(item goja.Value) bool {
			var kv []goja.Value
			io, ok := item.(*goja.Object)
			if !ok {
				in.throwTypeError("Failed to construct 'URLSearchParams': The provided value cannot be converted to a sequence.")
			}
			in.vm.ForOf(io, func(x goja.Value) bool { kv = append(kv, x); return true })
			if len(kv) != 2 {
				in.throwTypeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements")
			}
			p.list = append(p.list, pair{in.usvString(kv[0]), in.usvString(kv[1])})
			return true
		})
		return
	}
	for _, k := range o.Keys() {
		p.list = append(p.list, pair{k, in.usvString(o.Get(k))})
	}
}

// usvString converts to a string with lone surrogates replaced.
func (in *instance) usvString(v goja.Value) string { return in.toString(v) }

// lessUTF16 compares strings by UTF-16 code units.
func lessUTF16(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return a < b
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// formParse is the application/x-www-form-urlencoded parser
// (https://url.spec.whatwg.org/#urlencoded-parsing).
func formParse(s string) []pair {
	var out []pair
	for len(s) > 0 {
		var seq string
		seq, s, _ = strings.Cut(s, "&")
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		out = append(out, pair{formDecode(name), formDecode(value)})
	}
	return out
}

func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		if utf8.ValidString(s) {
			return s
		}
		return decodeUTF8([]byte(s), false)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return decodeUTF8(b, false)
}

// formSerialize is the application/x-www-form-urlencoded serializer.
func formSerialize(list []pair) string {
	var b strings.Builder
	for i, e := range list {
		if i > 0 {
			b.WriteByte('&')
		}
		formEncode(&b, e.name)
		b.WriteByte('=')
		formEncode(&b, e.value)
	}
	return b.String()
}

func formEncode(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
