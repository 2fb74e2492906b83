package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/runtime"
)

type guestEnv struct {
	env   *binding.Env
	kv    *memKV
	files *memBucket
	jobs  *memQueue
}

func newGuestEnv() *guestEnv {
	g := &guestEnv{kv: newMemKV(), files: newMemBucket(), jobs: &memQueue{}}
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-From", "backend")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
	})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "outbound "+r.URL.String())
	})
	g.env = &binding.Env{
		Vars:     map[string]any{"NAME": "wisp", "LIMITS": map[string]any{"n": int64(3)}},
		Secrets:  map[string]string{"TOKEN": "s3cret"},
		KV:       map[string]binding.KV{"STORE": g.kv},
		Buckets:  map[string]binding.Bucket{"FILES": g.files},
		Services: map[string]binding.Service{"BACKEND": handlerService{backend}},
		Queues:   map[string]binding.Producer{"JOBS": g.jobs},
		Fetch:    allowFetcher{host: "api.example.com", h: api},
	}
	return g
}

// TestGoBindings drives every binding through the Go SDK and the host
// functions, against in-memory implementations of the binding interfaces.
func TestGoBindings(t *testing.T) {
	g := newGuestEnv()
	mod, _ := loadModule(t, guestModule(t), loadOpts{env: g.env})
	inst := newInstance(t, mod)
	tests := []struct {
		name, method, path, body string
		header                   http.Header
		status                   int
		want                     string            // substring of the body
		wantHeader               map[string]string // exact values
	}{
		{name: "var string", method: "GET", path: "/var/NAME", status: 200, want: "true wisp"},
		{name: "var table as JSON", method: "GET", path: "/var/LIMITS", status: 200, want: `true {"n":3}`},
		{name: "var absent", method: "GET", path: "/var/NOPE", status: 200, want: "false "},
		{name: "secret", method: "GET", path: "/secret/TOKEN", status: 200, want: "true s3cret"},
		{name: "secret absent", method: "GET", path: "/secret/NOPE", status: 200, want: "false "},
		{name: "kv get absent", method: "GET", path: "/kv/a", status: 404, want: "not found"},
		{name: "kv put", method: "PUT", path: "/kv/a", body: "apple", status: 200},
		{name: "kv put with ttl", method: "PUT", path: "/kv/b?ttl=60", body: "banana", status: 200},
		{name: "kv get", method: "GET", path: "/kv/a", status: 200, want: "apple"},
		{name: "kv list", method: "GET", path: "/kv", status: 200, want: `{"keys":[{"name":"a"},{"name":"b","expiration":`},
		{name: "kv list metadata", method: "GET", path: "/kv?prefix=b", status: 200, want: `"metadata":{"by":"guest"}}],"list_complete":true}`},
		{name: "kv delete", method: "DELETE", path: "/kv/a", status: 200},
		{name: "kv gone", method: "GET", path: "/kv/a", status: 404},
		{name: "kv backend error", method: "GET", path: "/kv/", status: 404},
		{name: "kv unbound", method: "GET", path: "/kv-unbound", status: 502, want: `code -2: kv_get: no KV namespace is bound as "NOPE"`},
		{name: "object put", method: "PUT", path: "/obj/doc.txt", body: "hello objects", header: http.Header{"Content-Type": {"text/plain"}}, status: 200, want: `"key":"doc.txt","size":13`},
		{name: "object get", method: "GET", path: "/obj/doc.txt", status: 200, want: "hello objects", wantHeader: map[string]string{"X-Info": "doc.txt 13 text/plain map[a:b]"}},
		{name: "object range", method: "GET", path: "/obj/doc.txt?offset=6&length=3", status: 200, want: "obj"},
		{name: "object head", method: "HEAD", path: "/obj/doc.txt", status: 200, wantHeader: map[string]string{"X-Size": "13"}},
		{name: "object list", method: "GET", path: "/obj?prefix=doc", status: 200, want: `"delimited_prefixes":[],"truncated":false`},
		{name: "object delete", method: "DELETE", path: "/obj/doc.txt", status: 200},
		{name: "object gone", method: "GET", path: "/obj/doc.txt", status: 404},
		{name: "service call", method: "POST", path: "/svc/api/items?x=1", body: "payload", status: 200, want: "POST /api/items text/plain payload",
			wantHeader: map[string]string{"X-Backend-Status": "202 Accepted", "X-Backend-Header": "backend"}},
		{name: "outbound allowed", method: "GET", path: "/fetch?url=https://api.example.com/v1?q=2", status: 200, want: "outbound https://api.example.com/v1?q=2"},
		{name: "outbound refused", method: "GET", path: "/fetch?url=https://evil.example.com/", status: 502, want: "is not in [outbound] allowed_hosts"},
		{name: "outbound bad scheme", method: "GET", path: "/fetch?url=file:///etc/passwd", status: 502},
		{name: "queue send", method: "POST", path: "/queue", body: "job-1", status: 200},
		{name: "stream", method: "GET", path: "/stream", status: 200, want: "chunk 0\nchunk 1\nchunk 2\n"},
		{name: "big body", method: "GET", path: "/big?n=100000", status: 200, want: strings.Repeat("abcdefghijklmnopqrstuvwxyz", 3)},
		{name: "no route", method: "GET", path: "/nowhere", status: 404, want: "404 page not found"},
		{name: "no files, no sockets", method: "GET", path: "/sandbox", status: 200, want: "file: true\ndir: true\nnet: true\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := fetch(inst, 0, tc.method, "http://svc.test"+tc.path, tc.header, tc.body)
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %q, want %d with %q", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if len(g.jobs.msgs) != 1 || string(g.jobs.msgs[0].Body) != "job-1" || g.jobs.msgs[0].ContentType != "text" || g.jobs.msgs[0].DelaySeconds != 2 {
		t.Errorf("queue got %+v", g.jobs.msgs)
	}
	if rec, _ := fetch(inst, 0, "GET", "http://svc.test/big?n=100000", nil, ""); rec.Body.Len() != 100000 {
		t.Errorf("big body: %d bytes", rec.Body.Len())
	}
}

// TestGoFailures: every way a guest can fail stops that instance with the
// right error; the module keeps making working instances.
func TestGoFailures(t *testing.T) {
	mod, l := loadModule(t, guestModule(t), loadOpts{memMB: 64, timeout: 300 * time.Millisecond})
	// deadline is the request's; maxTime bounds how long failing may take.
	tests := []struct {
		path              string
		deadline, maxTime time.Duration
		kind              runtime.ErrorKind
		message           string
	}{
		{"/loop", 300 * time.Millisecond, 5 * time.Second, runtime.Timeout, "time limit of 300ms"},
		{"/sleep", 300 * time.Millisecond, 5 * time.Second, runtime.Timeout, "time limit of 300ms"},
		{"/hog", time.Minute, time.Minute, runtime.Crash, "the module trapped: wasm error: unreachable"},
		{"/exit", time.Minute, 10 * time.Second, runtime.Crash, "exited with code 3"},
		{"/badptr", time.Minute, 10 * time.Second, runtime.Crash, "log message [4294967280, +1) is outside the module's memory"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			inst, err := mod.NewInstance(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close()
			start := time.Now()
			_, err = fetch(inst, tc.deadline, "GET", "http://svc.test"+tc.path, nil, "")
			var ge *runtime.Error
			if !errors.As(err, &ge) || ge.Kind != tc.kind || !strings.Contains(ge.Message, tc.message) {
				t.Fatalf("got %#v, want kind %d with %q", err, tc.kind, tc.message)
			}
			if !runtime.MustDiscard(err) {
				t.Fatal("the instance must be discarded")
			}
			if d := time.Since(start); d > tc.maxTime {
				t.Fatalf("took %v", d)
			}
			fresh := newInstance(t, mod)
			if rec, err := fetch(fresh, 0, "GET", "http://svc.test/count", nil, ""); err != nil || rec.Body.String() != "1" {
				t.Fatalf("a fresh instance after %s: %v %q", tc.path, err, rec.Body.String())
			}
		})
	}
	if e := l.find("fatal error: out of memory"); e == nil {
		t.Errorf("the out-of-memory crash was not logged")
	}
}

// TestGoLogs: stdout, stderr, the log package and wisp.Log become log
// entries tagged with the request id.
func TestGoLogs(t *testing.T) {
	mod, l := loadModule(t, guestModule(t), loadOpts{})
	inst := newInstance(t, mod)
	if rec, err := fetch(inst, 0, "GET", "http://svc.test/log", nil, ""); err != nil || rec.Body.String() != "logged" {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
	for msg, level := range map[string]logs.Level{"to stdout": logs.Info, "to stderr": logs.Error, "through log": logs.Info, "a debug line": logs.Debug} {
		e := l.find(msg)
		if e == nil {
			t.Errorf("no entry %q", msg)
			continue
		}
		if e.RequestID != "req-1" || e.Level != level || e.Service != "svc" {
			t.Errorf("entry %q: %+v", msg, e)
		}
	}
}

// TestGoLogsTraced: a traced request's entries carry its trace id.
func TestGoLogsTraced(t *testing.T) {
	mod, l := loadModule(t, guestModule(t), loadOpts{})
	inst := newInstance(t, mod)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := observe.Extract(context.Background(), http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}})
	rec := httptest.NewRecorder()
	if err := inst.Fetch(ctx, &runtime.Request{ID: "req-2", Method: "GET", URL: "http://svc.test/log", Header: http.Header{}}, rec); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"to stdout", "to stderr", "a debug line"} {
		if e := l.find(msg); e == nil || e.TraceID != traceID {
			t.Errorf("entry %q: %+v", msg, e)
		}
	}
}

// TestGoReusesInstance: an instance keeps its state across requests.
func TestGoReusesInstance(t *testing.T) {
	mod, _ := loadModule(t, guestModule(t), loadOpts{})
	inst := newInstance(t, mod)
	for i := 1; i <= 3; i++ {
		rec, err := fetch(inst, 0, "GET", "http://svc.test/count", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := json.Unmarshal(rec.Body.Bytes(), &n); err != nil || n != i {
			t.Fatalf("request %d: %q", i, rec.Body.String())
		}
	}
}
