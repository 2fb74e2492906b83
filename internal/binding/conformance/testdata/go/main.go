// Command guest is the conformance guest for Go on the wasm runtime, on
// the wisp Go SDK. It answers the same operations as testdata/js/index.js
// (POST /rpc with {"op": ..., ...} runs one binding operation and answers
// {"result": ...} or {"error": {"name", "message"}}), so the suite holds
// both runtimes to the same behaviour. Any other request is echoed back,
// so that service bindings have something to call.
//
// The operations' arguments follow the Workers signatures the JS guest
// passes straight to env.X (get(key, type), put(key, value, {expiration,
// expirationTtl, metadata}), ...). Where such an argument has a shape the
// Go SDK's typed options cannot express (an unknown type string, a
// cacheTtl, a present-but-zero expirationTtl or limit, a missing value,
// onlyIf), this guest refuses it while translating, with the words the JS
// runtime's Workers layer uses; everything else is the SDK and the host.
//
// Built by the conformance tests with the stock toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guest.wasm .
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

// msg is one operation's arguments.
type msg map[string]json.RawMessage

func (m msg) has(k string) bool { v, ok := m[k]; return ok && string(v) != "null" }

func (m msg) str(k string) string {
	raw := m[k]
	// The message was checked as a whole when it was decoded: a string
	// without escapes is its bytes. This keeps a 25 MiB value from being
	// scanned twice more (JSON decoding is slow under wasm).
	if n := len(raw); n >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : n-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func (m msg) obj(k string) msg {
	var o msg
	_ = json.Unmarshal(m[k], &o)
	if o == nil {
		o = msg{}
	}
	return o
}

// num is a JS Number(x) truncated, and whether it is a number at all.
func (m msg) num(k string) (int64, bool) {
	var f float64
	if err := json.Unmarshal(m[k], &f); err != nil {
		return 0, false
	}
	return int64(f), true
}

// raw is a value as JavaScript prints it in a message.
func (m msg) raw(k string) string {
	var s string
	if json.Unmarshal(m[k], &s) == nil {
		return s
	}
	return string(m[k])
}

// jsError is an error with a JavaScript error name.
type jsError struct{ name, message string }

func (e *jsError) Error() string { return e.message }

func typeError(format string, args ...any) error {
	return &jsError{"TypeError", fmt.Sprintf(format, args...)}
}

type op func(r *http.Request, m msg) (any, error)

var ops = map[string]op{}

func main() {
	http.HandleFunc("/", handle)
	wisp.Serve(nil)
}

func handle(w http.ResponseWriter, r *http.Request) {
	body := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+1))
	_, _ = body.ReadFrom(r.Body)
	if r.URL.Path != "/rpc" {
		echo(w, r, body.Bytes())
		return
	}
	var m msg
	if err := json.NewDecoder(body).Decode(&m); err != nil {
		reply(w, nil, fmt.Errorf("bad request: %v", err))
		return
	}
	name := m.str("op")
	f := ops[name]
	if f == nil {
		reply(w, nil, fmt.Errorf("unknown op %s", name))
		return
	}
	v, err := f(r, m)
	reply(w, v, err)
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		name, message := "Error", err.Error()
		var je *jsError
		var we *wisp.Error
		switch {
		case errors.As(err, &je):
			name = je.name
		case errors.As(err, &we):
			message = we.Message
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"name": name, "message": message}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result": v})
}

func echo(w http.ResponseWriter, r *http.Request, body []byte) {
	var test any
	if v := r.Header.Values("X-Test"); len(v) > 0 {
		test = strings.Join(v, ", ")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Guest", "go")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "url": r.URL.String(), "host": r.Host, "test": test, "body": string(body)})
}

// ---- env ----

func envLookup(name string) (string, bool) {
	if v, ok := wisp.Secret(name); ok {
		return v, true
	}
	return wisp.Var(name)
}

// jsTypes are the constructor names a JS worker's env values have.
var jsTypes = map[string]string{"var": "string", "secret": "string", "kv": "KVNamespace", "bucket": "R2Bucket", "service": "Fetcher", "queue": "WorkerQueue"}

func init() {
	ops["env.keys"] = func(_ *http.Request, _ msg) (any, error) {
		es, err := wisp.Env()
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, e := range es {
			names = append(names, e.Name)
		}
		sort.Strings(names)
		return names, nil
	}
	ops["env.types"] = func(_ *http.Request, _ msg) (any, error) {
		es, err := wisp.Env()
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, e := range es {
			out[e.Name] = jsTypes[e.Kind]
		}
		return out, nil
	}
	ops["env.equals"] = func(_ *http.Request, m msg) (any, error) {
		v, ok := envLookup(m.str("name"))
		return ok && v == m.str("value"), nil
	}
	ops["env.length"] = func(_ *http.Request, m msg) (any, error) {
		v, ok := envLookup(m.str("name"))
		if !ok {
			return nil, nil
		}
		return len(utf16.Encode([]rune(v))), nil // JS strings count UTF-16 units
	}
}

// ---- service bindings and outbound fetch ----

func init() {
	ops["svc.fetch"] = func(r *http.Request, m msg) (any, error) {
		method := "GET"
		if m.has("method") {
			method = m.str("method")
		}
		var body io.Reader
		if m.has("body") {
			var s string
			if json.Unmarshal(m["body"], &s) == nil {
				body = strings.NewReader(s)
			} else {
				var b bytes.Buffer
				_ = json.Compact(&b, m["body"])
				body = &b
			}
		}
		req, err := http.NewRequestWithContext(r.Context(), method, m.str("url"), body)
		if err != nil {
			return nil, err
		}
		for k, v := range m.obj("headers") {
			var s string
			_ = json.Unmarshal(v, &s)
			req.Header.Set(k, s)
		}
		resp, err := wisp.Service(m.str("binding")).Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		text, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		headers := map[string]string{}
		for k, vs := range resp.Header {
			headers[strings.ToLower(k)] = strings.Join(vs, ", ")
		}
		var parsed any = string(text)
		var j any
		if json.Unmarshal(text, &j) == nil {
			parsed = j
		}
		return map[string]any{"status": resp.StatusCode, "headers": headers, "body": parsed}, nil
	}
	ops["fetch"] = func(r *http.Request, m msg) (any, error) {
		init := m.obj("init")
		method := "GET"
		if init.has("method") {
			method = init.str("method")
		}
		var body io.Reader
		if init.has("body") {
			body = strings.NewReader(init.str("body"))
		}
		req, err := http.NewRequestWithContext(r.Context(), method, m.str("url"), body)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		text, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": resp.StatusCode, "body": string(text)}, nil
	}
}
