package js

import (
	"net/http"
	"strconv"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/runtime"
)

// hopHeaders are connection-level headers a worker cannot set; the
// gateway's HTTP server manages them.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Upgrade": true,
	"Proxy-Connection": true, "Te": true, "Trailer": true, "Content-Length": true,
}

// writeResponse writes the Response the handler produced.
func (in *instance) writeResponse(res goja.Value, w http.ResponseWriter) error {
	pv, err := in.responseParts(goja.Undefined(), res)
	if err != nil {
		return in.guestError(err, nil)
	}
	if goja.IsNull(pv) {
		return runtime.Errorf(runtime.BadResponse, "the fetch handler returned %s, not a Response", typeOf(res))
	}
	parts := pv.Export().([]any)
	status := int(parts[0].(int64))
	if status == 0 {
		return runtime.Errorf(runtime.BadResponse, "the fetch handler returned Response.error()")
	}
	h := w.Header()
	for _, kv := range pairs(parts[1]) {
		k := http.CanonicalHeaderKey(kv[0])
		if !hopHeaders[k] {
			h.Add(k, kv[1])
		}
	}
	var body []byte
	var text string
	switch b := parts[2].(type) {
	case nil:
	case string:
		text = b
	case []byte:
		body = b
	}
	n := len(body) + len(text)
	if status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		h.Set("Content-Length", strconv.Itoa(n))
	}
	w.WriteHeader(status)
	if n == 0 {
		return nil
	}
	var werr error
	if body != nil {
		_, werr = w.Write(body)
	} else {
		_, werr = w.Write([]byte(text))
	}
	_ = werr // the client went away; nothing the worker can do about it
	return nil
}

func pairs(v any) [][2]string {
	flat, _ := v.([]any)
	out := make([][2]string, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		val, _ := flat[i+1].(string)
		out = append(out, [2]string{k, val})
	}
	return out
}

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
					return "a " + n.String()
				}
			}
		}
		return "an object"
	}
	return "a " + v.ExportType().String()
}
