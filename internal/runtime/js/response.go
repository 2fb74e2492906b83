package js

import (
	"net/http"
	"strconv"

	"github.com/dop251/goja"
)

// Response: https://fetch.spec.whatwg.org/#response-class with workerd's
// messages. Headers are made only when code asks for them: a Response
// built from a string carries just its implied Content-Type until then.

type response struct {
	base
	in         *instance
	status     int
	statusText string
	typ        string // "default", "error" (Response.error())
	url        string
	redirected bool
	hdrs       *headers // nil: only ctype
	hobj       *goja.Object
	ctype      string
	body       body
}

var responseClass = defineClass(&classDef{name: "Response"})

func init() {
	responseClass.set(classDef{
		attrs: []string{"status", "ok", "statusText", "headers", "body", "bodyUsed", "type", "url", "redirected", "webSocket", "cf"},
		name:  "Response",
		construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
			r := in.buildResponse(arg(args, 0), arg(args, 1))
			return in.wrapProto(proto, r)
		},
		methods: bodyMethods[*response](map[string]method{
			"clone": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				r := thisAs[*response](in, this)
				if in.bodyUsed(&r.body) {
					in.throwTypeError(errBodyUsed)
				}
				c := &response{in: in, status: r.status, statusText: r.statusText, typ: r.typ, url: r.url, redirected: r.redirected, ctype: r.ctype}
				if r.hdrs != nil {
					c.hdrs = r.hdrs.copy()
					c.hdrs.immutable = r.hdrs.immutable
				}
				c.body = in.teeBody(&r.body)
				return in.wrap(responseClass, c)
			},
		}),
		statics: map[string]method{
			"json": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				text, ok := in.fastStringify(arg(args, 0))
				if !ok {
					s, err := in.stringify()(goja.Undefined(), arg(args, 0))
					if err != nil {
						panic(errValue(in, err))
					}
					if goja.IsUndefined(s) {
						in.throwTypeError("Value is not JSON serializable")
					}
					text = s.String()
				}
				r := in.newResponseInit(arg(args, 1))
				r.body = body{kind: bodyString, str: text}
				if r.hdrs == nil {
					r.ctype = "application/json"
				} else if _, ok := r.hdrs.get("content-type"); !ok {
					r.hdrs.list = append(r.hdrs.list, hpair{"content-type", "application/json"})
				}
				return in.responseObject(this, r)
			},
			"redirect": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				status := 302
				if s := arg(args, 1); !goja.IsUndefined(s) {
					status = int(s.ToInteger())
				}
				switch status {
				case 301, 302, 303, 307, 308:
				default:
					in.throwError("RangeError", strconv.Itoa(status)+" is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.")
				}
				raw := in.toString(arg(args, 0))
				u, err := parseURL(raw, "")
				if err != nil {
					in.throwTypeError("Invalid URL: " + raw)
				}
				r := &response{in: in, status: status, typ: "default"}
				r.hdrs = &headers{in: in, list: []hpair{{"location", u.href()}}, immutable: true}
				return in.wrap(responseClass, r)
			},
			"error": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				r := &response{in: in, status: 0, typ: "error"}
				r.hdrs = &headers{in: in, immutable: true}
				return in.wrap(responseClass, r)
			},
		},
	})
}

func init() { defineGlobal("Response", classGlobal(responseClass)) }

// responseObject wraps r for a static factory called on this (Response or
// a subclass).
func (in *instance) responseObject(this goja.Value, r *response) *goja.Object {
	if ctor, ok := this.(*goja.Object); ok {
		if proto, ok := ctor.Get("prototype").(*goja.Object); ok {
			return in.wrapProto(proto, r)
		}
	}
	return in.wrap(responseClass, r)
}

func (r *response) bodyOf() (*body, func() string) {
	return &r.body, func() string { return r.contentType() }
}

func (r *response) contentType() string {
	if r.hdrs == nil {
		return r.ctype
	}
	v, _ := r.hdrs.get("content-type")
	return v
}

func (r *response) headers() *headers {
	if r.hdrs == nil {
		r.hdrs = &headers{in: r.in}
		if r.ctype != "" {
			r.hdrs.list = []hpair{{"content-type", r.ctype}}
		}
	}
	return r.hdrs
}

func (r *response) Get(key string) goja.Value {
	in := r.in
	switch key {
	case "status":
		return in.vm.ToValue(r.status)
	case "ok":
		return in.vm.ToValue(r.status >= 200 && r.status <= 299)
	case "statusText":
		return in.vm.ToValue(r.statusText)
	case "headers":
		if r.hobj == nil {
			r.hobj = in.newHeaders(r.headers())
		}
		return r.hobj
	case "body":
		return in.bodyStream(&r.body)
	case "bodyUsed":
		return in.vm.ToValue(in.bodyUsed(&r.body))
	case "type":
		return in.vm.ToValue(r.typ)
	case "url":
		return in.vm.ToValue(r.url)
	case "redirected":
		return in.vm.ToValue(r.redirected)
	case "webSocket":
		return goja.Null()
	case "cf":
		return goja.Undefined()
	}
	return r.expando.get(key)
}

func (r *response) Set(key string, v goja.Value) bool {
	switch key {
	case "status", "ok", "statusText", "headers", "body", "bodyUsed", "type", "url", "redirected", "webSocket":
		return false
	}
	r.setExpando(key, v)
	return true
}

// asResponse returns the Response behind v, or nil.
func asResponse(v goja.Value) *response {
	if o, ok := v.(*goja.Object); ok {
		r, _ := o.Export().(*response)
		return r
	}
	return nil
}

// buildResponse is the Response(body, init) constructor.
func (in *instance) buildResponse(bodyInit, init goja.Value) *response {
	r := in.newResponseInit(init)
	b, ctype := in.extractBody(bodyInit)
	if !b.isNull() && nullBodyStatus(r.status) {
		in.throwTypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.")
	}
	r.body = b
	if ctype != "" {
		if r.hdrs == nil {
			r.ctype = ctype
		} else if _, ok := r.hdrs.get("content-type"); !ok {
			r.hdrs.list = append(r.hdrs.list, hpair{"content-type", ctype})
		}
	}
	return r
}

// newResponseInit applies a ResponseInit (status, statusText, headers).
func (in *instance) newResponseInit(init goja.Value) *response {
	r := &response{in: in, status: 200, typ: "default"}
	if isNullish(init) {
		return r
	}
	o, ok := init.(*goja.Object)
	if !ok {
		in.throwTypeError("Failed to construct 'Response': cannot convert init to a dictionary.")
	}
	if src, ok := o.Export().(*response); ok {
		// new Response(body, otherResponse): its status, text and headers.
		r.status, r.statusText = src.status, src.statusText
		r.hdrs = src.headers().copy()
		return r
	}
	if s := o.Get("status"); s != nil && !goja.IsUndefined(s) {
		f := s.ToFloat()
		if f != float64(int(f)) || f < 200 || f > 599 {
			in.throwError("RangeError", "Responses may only be constructed with status codes in the range 200 to 599, inclusive.")
		}
		r.status = int(f)
	}
	if s := o.Get("statusText"); s != nil && !goja.IsUndefined(s) {
		r.statusText = in.toString(s)
		for i := 0; i < len(r.statusText); i++ {
			if c := r.statusText[i]; c == '\r' || c == '\n' {
				in.throwTypeError("Invalid statusText.")
			}
		}
	}
	if h := o.Get("headers"); h != nil && !goja.IsUndefined(h) {
		r.hdrs = &headers{in: in}
		r.hdrs.fill(h)
	}
	if ws := o.Get("webSocket"); ws != nil && !isNullish(ws) {
		in.throwError("Error", unsupportedMessage("WebSocket (Response webSocket)"))
	}
	return r
}

func nullBodyStatus(s int) bool {
	return s == http.StatusSwitchingProtocols || s == http.StatusNoContent || s == http.StatusResetContent || s == http.StatusNotModified
}
