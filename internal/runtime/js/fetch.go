package js

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/binding"
)

// fetch(): outbound HTTP through the service's binding.Fetcher, which
// enforces [outbound] allowed_hosts. A service without one can reach
// nothing. The response body streams: passed through untouched it is
// copied straight to the client.

func init() { defineGlobal("fetch", funcGlobal(fetchFn)) }

func fetchFn(in *instance, this goja.Value, args []goja.Value) goja.Value {
	if in.ctx == nil {
		return in.rejected(in.newError("Error", errGlobalScope.Error()))
	}
	var r *request
	if ex := in.vm.Try(func() { r = in.buildRequest(arg(args, 0), arg(args, 1)) }); ex != nil {
		return in.rejected(ex.Value())
	}
	if u, err := parseURL(r.url, ""); err == nil && u.scheme != "http" && u.scheme != "https" {
		return in.rejected(in.vm.NewTypeError("%s", "Fetch API cannot load: "+r.url))
	}
	fetcher := in.mod.spec.Env.Fetch
	if fetcher == nil {
		return in.rejected(in.newError("Error", fmt.Sprintf(
			"fetch(%s) refused: this service may not make outbound requests; list the host in [outbound] allowed_hosts in its wisp.toml", r.url)))
	}
	if r.body.kind == bodyStream {
		// Read the stream to the end first: the request goes out from a
		// goroutine that cannot touch the runtime.
		p, err := in.programFunc("streams", "readAll")(goja.Undefined(), r.body.stream)
		if err != nil {
			return in.rejected(errValue(in, err))
		}
		return in.then(p, func(v goja.Value) goja.Value {
			data, _ := in.bufferBytes(v)
			r.body = body{kind: bodyBytes, bytes: append([]byte(nil), data...)}
			return in.sendFetch(r)
		})
	}
	return in.sendFetch(r)
}

func (in *instance) sendFetch(r *request) goja.Value {
	ctx, cancel := context.WithCancel(in.invocationContext())
	if r.redirect != "follow" {
		// "manual" and "error" both want the redirect response itself.
		ctx = binding.ManualRedirects(ctx)
	}
	if r.signal != nil && !isNullish(r.signal) {
		so := r.signal.ToObject(in.vm)
		if so.Get("aborted").ToBoolean() {
			cancel()
			return in.rejected(so.Get("reason"))
		}
		if add, ok := goja.AssertFunction(so.Get("addEventListener")); ok {
			_, _ = add(so, in.vm.ToValue("abort"), in.vm.ToValue(func(goja.FunctionCall) goja.Value { cancel(); return nil }))
		}
	}
	var rd io.Reader
	switch r.body.kind {
	case bodyBytes:
		rd = bytes.NewReader(r.body.bytes)
	case bodyString:
		rd = strings.NewReader(r.body.str)
	case bodyReader:
		rd = r.body.reader
	}
	hreq, err := http.NewRequestWithContext(ctx, r.method, r.url, rd)
	if err != nil {
		cancel()
		return in.rejected(in.vm.NewTypeError("%s", "fetch: "+err.Error()))
	}
	r.hdrs.each(func(name, value string) {
		if name == "host" {
			hreq.Host = value
			return
		}
		hreq.Header.Add(name, value)
	})
	if rd != nil {
		switch r.body.kind {
		case bodyBytes:
			hreq.ContentLength = int64(len(r.body.bytes))
		case bodyString:
			hreq.ContentLength = int64(len(r.body.str))
		}
	}
	redirect := r.redirect
	fetcher := in.mod.spec.Env.Fetch
	return in.offLoop(func() (func() goja.Value, error) {
		resp, err := fetcher.Do(ctx, hreq)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("fetch %s: %w", r.url, err)
		}
		return func() goja.Value {
			if redirect == "error" && resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
				resp.Body.Close()
				cancel()
				in.throwTypeError("fetch " + r.url + ": redirect: \"error\" and the response is a redirect")
			}
			return in.responseFromHTTP(resp, cancel)
		}, nil
	})
}

// responseFromHTTP wraps an outbound response. Its headers are immutable,
// as on Workers; its body streams from the connection.
func (in *instance) responseFromHTTP(resp *http.Response, done context.CancelFunc) *goja.Object {
	r := &response{in: in, status: resp.StatusCode, typ: "default", url: resp.Request.URL.String()}
	r.statusText = strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
	h := &headers{in: in, immutable: true}
	for k, vs := range resp.Header {
		lk := lowerASCII(k)
		for _, v := range vs {
			h.list = append(h.list, hpair{lk, v})
		}
	}
	r.hdrs = h
	if resp.Request != nil && resp.Request.Response != nil {
		r.redirected = true
	}
	if resp.Body != nil && resp.Body != http.NoBody && !nullBodyStatus(resp.StatusCode) {
		r.body = body{kind: bodyReader, reader: &cancelOnClose{resp.Body, done}, length: resp.ContentLength}
	} else {
		if resp.Body != nil {
			resp.Body.Close()
		}
		done()
	}
	return in.wrap(responseClass, r)
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
