package js

import (
	"io"
	"net/http"
	"net/textproto"
	"strconv"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/runtime"
)

// hopHeaders are connection-level headers a worker cannot set; the
// gateway's HTTP server manages them.
var hopHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "transfer-encoding": true, "upgrade": true,
	"proxy-connection": true, "te": true, "trailer": true, "content-length": true,
}

// writeResponse writes the Response the handler produced. A streamed body
// is copied chunk by chunk, each flushed, so server-sent events reach the
// client as they are produced.
func (in *instance) writeResponse(inv *invocation, r *response, w http.ResponseWriter) error {
	if r.typ == "error" {
		return runtime.Errorf(runtime.BadResponse, "the fetch handler returned Response.error()")
	}
	if in.bodyUsed(&r.body) {
		return runtime.Errorf(runtime.BadResponse, "the fetch handler returned a Response whose body was already used")
	}
	h := w.Header()
	if r.hdrs == nil {
		if r.ctype != "" {
			h["Content-Type"] = contentTypeValue(r.ctype)
		}
	} else {
		r.hdrs.each(func(name, value string) {
			if !hopHeaders[name] {
				k := canonicalKey(name)
				h[k] = append(h[k], value)
			}
		})
	}
	if _, ok := h["Content-Type"]; !ok {
		// No Content-Type is sent, as workerd does: a nil entry keeps
		// net/http from sniffing one.
		h["Content-Type"] = nil
	}
	status := r.status
	noBody := nullBodyStatus(status) || status < 200
	switch r.body.kind {
	case bodyNone:
		if !noBody {
			h["Content-Length"] = []string{"0"}
		}
		w.WriteHeader(status)
		return nil
	case bodyBytes, bodyString:
		n := len(r.body.bytes) + len(r.body.str)
		if !noBody {
			h["Content-Length"] = []string{strconv.Itoa(n)}
		}
		w.WriteHeader(status)
		if n > 0 && !noBody {
			if r.body.kind == bodyBytes {
				_, _ = w.Write(r.body.bytes)
			} else {
				_, _ = io.WriteString(w, r.body.str)
			}
		}
		// A client that went away is nothing the worker can act on.
		return nil
	case bodyReader:
		if r.body.length >= 0 && !noBody {
			h["Content-Length"] = []string{strconv.FormatInt(r.body.length, 10)}
		}
		w.WriteHeader(status)
		return copyFlushing(w, r.body.reader)
	}
	w.WriteHeader(status)
	return in.pumpStream(inv, r.body.stream, w)
}

// pumpStream copies a JS ReadableStream to w, flushing every chunk.
func (in *instance) pumpStream(inv *invocation, stream *goja.Object, w http.ResponseWriter) error {
	readv, err := in.programFunc("streams", "reader")(goja.Undefined(), stream)
	if err != nil {
		return in.guestError(err, inv.ctx)
	}
	read, _ := goja.AssertFunction(readv)
	flusher, _ := w.(http.Flusher)
	for {
		p, err := read(goja.Undefined())
		if err != nil {
			return in.guestError(err, inv.ctx)
		}
		v, err := in.await(inv, p)
		if err != nil {
			return err
		}
		if goja.IsUndefined(v) {
			return nil
		}
		chunk, _ := in.bufferBytes(v)
		if len(chunk) == 0 {
			continue
		}
		if _, err := w.Write(chunk); err != nil {
			// The client is gone: stop producing.
			if c, ok := goja.AssertFunction(readv.(*goja.Object).Get("cancel")); ok {
				_, _ = c(goja.Undefined())
			}
			return nil
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// copyFlushing copies a Go body to w, flushing after every read.
func copyFlushing(w http.ResponseWriter, r io.ReadCloser) error {
	defer r.Close()
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return runtime.Errorf(runtime.Exception, "reading the response body: %v", err)
		}
	}
}

// contentTypeValue is a header value slice for ct, shared for the types
// the runtime implies itself (it has capacity 1: an append copies it).
func contentTypeValue(ct string) []string {
	switch ct {
	case "text/plain;charset=UTF-8":
		return ctText[:1:1]
	case "application/json":
		return ctJSON[:1:1]
	}
	return []string{ct}
}

var (
	ctText = []string{"text/plain;charset=UTF-8"}
	ctJSON = []string{"application/json"}
)

// canonicalKey turns a lowercase header name into Go's canonical form,
// without allocating for the common ones.
func canonicalKey(name string) string {
	switch name {
	case "content-type":
		return "Content-Type"
	case "location":
		return "Location"
	case "set-cookie":
		return "Set-Cookie"
	case "cache-control":
		return "Cache-Control"
	case "etag":
		return "Etag"
	case "vary":
		return "Vary"
	case "access-control-allow-origin":
		return "Access-Control-Allow-Origin"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
