package js

import (
	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Request: https://fetch.spec.whatwg.org/#request-class, as workerd has it
// (no mode/credentials/cache; cf and redirect "manual" supported).

type request struct {
	base
	in       *instance
	method   string
	url      string
	hdrs     *headers
	hobj     *goja.Object
	body     body
	redirect string
	signal   goja.Value
	cf       goja.Value
}

var requestClass = defineClass(&classDef{name: "Request"})

func init() {
	requestClass.set(classDef{
		attrs: []string{"method", "url", "headers", "body", "bodyUsed", "redirect", "signal", "cf", "integrity", "keepalive", "fetcher"},
		name:  "Request",
		construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
			r := in.buildRequest(arg(args, 0), arg(args, 1))
			return in.wrapProto(proto, r)
		},
		methods: bodyMethods[*request](map[string]method{
			"clone": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
				r := thisAs[*request](in, this)
				if in.bodyUsed(&r.body) {
					in.throwTypeError(errBodyUsed)
				}
				c := &request{in: in, method: r.method, url: r.url, redirect: r.redirect, signal: r.signal, cf: r.cf}
				c.hdrs = r.headers().copy()
				c.body = in.teeBody(&r.body)
				return in.wrap(requestClass, c)
			},
		}),
	})
}

func init() { defineGlobal("Request", classGlobal(requestClass)) }

func (r *request) bodyOf() (*body, func() string) {
	return &r.body, func() string { v, _ := r.headers().get("content-type"); return v }
}

func (r *request) headers() *headers { return r.hdrs }

func (r *request) Get(key string) goja.Value {
	in := r.in
	switch key {
	case "method":
		return in.vm.ToValue(r.method)
	case "url":
		return in.vm.ToValue(r.url)
	case "headers":
		if r.hobj == nil {
			r.hobj = in.newHeaders(r.hdrs)
		}
		return r.hobj
	case "body":
		return in.bodyStream(&r.body)
	case "bodyUsed":
		return in.vm.ToValue(in.bodyUsed(&r.body))
	case "redirect":
		return in.vm.ToValue(r.redirect)
	case "signal":
		if r.signal == nil {
			r.signal = in.neverAbortedSignal()
		}
		return r.signal
	case "cf":
		if r.cf == nil {
			return goja.Undefined()
		}
		return r.cf
	case "integrity":
		return in.vm.ToValue("")
	case "keepalive":
		return in.vm.ToValue(false)
	case "fetcher":
		return goja.Null()
	}
	return r.expando.get(key)
}

func (r *request) Set(key string, v goja.Value) bool {
	switch key {
	case "method", "url", "headers", "body", "bodyUsed", "redirect", "signal", "cf", "integrity", "keepalive", "fetcher":
		return false
	}
	r.setExpando(key, v)
	return true
}

func (r *request) Has(key string) bool { return r.expando.has(key) }

// newIncomingRequest makes the Request a worker's fetch handler receives.
// Its headers are read from the gateway's map in place and cannot be
// changed, as on Workers.
func (in *instance) newIncomingRequest(req *runtime.Request) *goja.Object {
	r := &request{in: in, method: req.Method, url: req.URL, redirect: "manual"}
	r.hdrs = &headers{in: in, src: req.Header, immutable: true}
	if len(req.Body) > 0 {
		r.body = body{kind: bodyBytes, bytes: req.Body}
	}
	return in.wrap(requestClass, r)
}

// buildRequest is the Request(input, init) constructor.
func (in *instance) buildRequest(input, init goja.Value) *request {
	r := &request{in: in, method: "GET", redirect: "follow"}
	var src *request
	if o, ok := input.(*goja.Object); ok {
		src, _ = o.Export().(*request)
	}
	if src != nil {
		r.url, r.method, r.redirect, r.signal, r.cf = src.url, src.method, src.redirect, src.signal, src.cf
	} else {
		u, err := parseURL(in.toString(input), "")
		if err != nil {
			in.throwTypeError("Invalid URL: " + in.toString(input))
		}
		r.url = u.href()
	}
	var initReq *request
	var io *goja.Object
	if !isNullish(init) {
		var ok bool
		if io, ok = init.(*goja.Object); !ok {
			in.throwTypeError("Failed to construct 'Request': cannot convert init to a dictionary.")
		}
		initReq, _ = io.Export().(*request)
	}
	get := func(name string) goja.Value {
		if io == nil {
			return goja.Undefined()
		}
		if initReq != nil && name == "body" {
			return goja.Undefined() // taken below without making a stream
		}
		v := io.Get(name)
		if v == nil {
			return goja.Undefined()
		}
		return v
	}
	if m := get("method"); !goja.IsUndefined(m) {
		r.method = normalizeMethod(in, in.toString(m))
	}
	if v := get("redirect"); !goja.IsUndefined(v) {
		s := in.toString(v)
		if s != "follow" && s != "manual" && s != "error" {
			in.throwTypeError("Invalid redirect value, must be one of \"follow\" or \"manual\" (\"error\" won't be implemented since it does not make sense at the edge; use \"manual\" and check the response status code).")
		}
		r.redirect = s
	}
	if v := get("signal"); !goja.IsUndefined(v) {
		r.signal = v
	}
	if v := get("cf"); !goja.IsUndefined(v) {
		r.cf = v
	}
	r.hdrs = &headers{in: in}
	if hv := get("headers"); !goja.IsUndefined(hv) {
		r.hdrs.fill(hv)
	} else if src != nil {
		r.hdrs = src.headers().copy()
	}
	var ctype string
	switch {
	case initReq != nil && !initReq.body.isNull():
		r.body = in.takeBody(&initReq.body)
	case io != nil && !isNullish(get("body")):
		r.body, ctype = in.extractBody(get("body"))
	case src != nil && !src.body.isNull():
		r.body = in.takeBody(&src.body)
	}
	if !r.body.isNull() && (r.method == "GET" || r.method == "HEAD") {
		in.throwTypeError("Request with a GET or HEAD method cannot have a body.")
	}
	if ctype != "" {
		if _, ok := r.hdrs.get("content-type"); !ok {
			r.hdrs.list = append(r.hdrs.list, hpair{"content-type", ctype})
		}
	}
	return r
}

// takeBody moves a body to a new Request or Response: the source reads as
// used afterwards, as in the spec.
func (in *instance) takeBody(b *body) body {
	if in.bodyUsed(b) {
		in.throwTypeError(errBodyUsed)
	}
	out := *b
	b.used = true
	if b.kind == bodyStream {
		in.programFunc("streams", "markDisturbed")(goja.Undefined(), b.stream)
	}
	return out
}

// httpMethods are the methods workerd accepts (its HTTP library's list);
// any other, in any case, is refused as it is there.
var httpMethods = []string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PURGE", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL",
	"MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
	"M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "QUERY", "BAN",
}

func normalizeMethod(in *instance, m string) string {
	up := upperASCII(m)
	for _, n := range httpMethods {
		if up == n {
			return n
		}
	}
	in.throwTypeError("Invalid HTTP method string: " + m)
	return ""
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// copy returns an independent, mutable copy.
func (h *headers) copy() *headers {
	h.materialize()
	return &headers{in: h.in, list: append([]hpair(nil), h.list...)}
}

// neverAbortedSignal is the signal of a request nobody can abort.
func (in *instance) neverAbortedSignal() goja.Value {
	c, err := in.vm.New(in.global("AbortController"))
	if err != nil {
		panic(err)
	}
	return c.Get("signal")
}
