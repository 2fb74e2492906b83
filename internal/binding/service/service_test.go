package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/service"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
)

// loaded makes a loaded service from a JS worker's source.
func loaded(t *testing.T, name, src string, maxInstances, timeoutMS int) *dispatch.Service {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err := bundle.JS(dir, "index.js")
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Name: name, Main: "index.js", Limits: manifest.Limits{TimeoutMS: timeoutMS, MaxInstances: maxInstances}}
	mod, err := js.Engine{}.Load(context.Background(), runtime.Spec{Service: name, Version: "v1", Manifest: m, Code: code, Env: &binding.Env{}, Logs: logs.Discard})
	if err != nil {
		t.Fatal(err)
	}
	pool := dispatch.NewPool(mod, dispatch.PoolConfig{Max: maxInstances, MaxQueue: 1}, slog.New(slog.DiscardHandler))
	t.Cleanup(pool.Close)
	return &dispatch.Service{Name: name, Version: "v1", Manifest: m, Pool: pool}
}

type memLogs struct {
	mu      sync.Mutex
	entries []logs.Entry
}

func (m *memLogs) Write(e logs.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
}

func (m *memLogs) all() []logs.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]logs.Entry(nil), m.entries...)
}

const echo = `export default {
  async fetch(req) {
    const u = new URL(req.url);
    if (u.pathname === '/throw') throw new Error('callee broke');
    if (u.pathname === '/spin') { for (;;) {} }
    if (u.pathname === '/big') return new Response('x'.repeat(5 << 20));
    if (u.pathname === '/wait') { await new Promise(r => setTimeout(r, 300)); return new Response('waited'); }
    return Response.json({ method: req.method, url: req.url, host: req.headers.get('host'), hdr: req.headers.get('x-test'), body: await req.text() },
      { status: 201, headers: { 'x-callee': 'b' } });
  },
};`

func call(t *testing.T, s binding.Service, ctx context.Context, method, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Test", "yes")
	resp, err := s.Fetch(ctx, req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nil
}

func inv() context.Context {
	return binding.StartInvocation(context.Background(), binding.DefaultMaxSubrequests)
}

func TestCallsTheCalleeInProcess(t *testing.T) {
	// The time limit is not under test here: generous, so that streaming
	// 5 MiB under the race detector on a loaded machine fits in it.
	b := loaded(t, "b", echo, 2, 30000)
	lg := &memLogs{}
	binder := service.NewBinder(func(n string) *dispatch.Service {
		if n == "b" {
			return b
		}
		return nil
	}, service.Config{Logs: lg})
	s := binder.Binding("a", "B", "b")

	resp, body, err := call(t, s, inv(), "POST", "https://b.internal/items?x=1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"POST","url":"https://b.internal/items?x=1","host":"b.internal","hdr":"yes","body":"hello"}`
	if resp.StatusCode != 201 || resp.Header.Get("X-Callee") != "b" || body != want || resp.Header.Get(service.RequestIDHeader) == "" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	poll.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		e := lg.all()
		if len(e) != 1 || e[0].Service != "b" || !strings.Contains(e[0].Message, "POST /items?x=1 201") || !strings.Contains(e[0].Message, "from a via B") {
			return fmt.Errorf("access log %+v", e)
		}
		return nil
	})
	if resp, body, err := call(t, s, inv(), "GET", "https://b/big", ""); err != nil || len(body) != 5<<20 {
		n := len(body)
		body = body[:min(n, 200)]
		t.Fatalf("streamed body of %d bytes (%v, %v): %q", n, err, resp, body)
	}
}

func TestFailuresAreResponses(t *testing.T) {
	b := loaded(t, "b", echo, 1, 200)
	s := service.NewBinder(func(string) *dispatch.Service { return b }, service.Config{}).Binding("a", "B", "b")
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/throw", 500, "Error: callee broke (request id "},
		{"/spin", 504, "exceeded its time limit of 200ms"},
		{"/", 201, `"method":"GET"`}, // the pool recovered from the spin
	} {
		resp, body, err := call(t, s, inv(), "GET", "https://b"+tc.path, "")
		if err != nil || resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
			t.Fatalf("%s: %v %v %q", tc.path, err, resp, body)
		}
	}
	// The only instance busy and the queue full: 503 with Retry-After.
	ctx := inv()
	slow := make(chan error, 2)
	for range 2 {
		go func() { _, _, err := call(t, s, ctx, "GET", "https://b/wait", ""); slow <- err }()
	}
	poll.CheckFor(t, 5*time.Second, time.Millisecond, func() error {
		if _, idle, waiting := b.Pool.Counts(); idle != 0 || waiting != 1 {
			return fmt.Errorf("idle %d, waiting %d", idle, waiting)
		}
		return nil
	})
	resp, _, err := call(t, s, ctx, "GET", "https://b/", "")
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("overloaded callee: %v %+v", err, resp)
	}
	<-slow
	<-slow
}

func TestRefusedCalls(t *testing.T) {
	b := loaded(t, "b", echo, 1, 1000)
	binder := service.NewBinder(func(n string) *dispatch.Service {
		if n == "b" || n == "a" {
			return b
		}
		return nil
	}, service.Config{MaxDepth: 3})
	var se *service.Error
	if _, _, err := call(t, binder.Binding("a", "GHOST", "ghost"), inv(), "GET", "https://x/", ""); !errors.As(err, &se) ||
		err.Error() != `service binding GHOST: service "ghost" does not exist or is not loaded on this node` {
		t.Fatalf("missing service: %v", err)
	}
	// b handling a request from a calls a: a cycle.
	ctx := service.WithPathForTest(inv(), "a", "b")
	_, _, err := call(t, binder.Binding("b", "A", "a"), ctx, "GET", "https://a/", "")
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "calling a would make a cycle (a → b → a)") {
		t.Fatalf("cycle: %v", err)
	}
	if _, _, err := call(t, binder.Binding("a", "A", "a"), inv(), "GET", "https://a/", ""); err == nil || !strings.Contains(err.Error(), "cycle (a → a)") {
		t.Fatalf("self call: %v", err)
	}
	ctx = service.WithPathForTest(inv(), "x", "y", "z")
	if _, _, err := call(t, binder.Binding("z", "B", "b"), ctx, "GET", "https://b/", ""); err == nil || !strings.Contains(err.Error(), "longer than the limit of 3") {
		t.Fatalf("depth: %v", err)
	}
	one := binding.StartInvocation(context.Background(), 1)
	s := binder.Binding("a", "B", "b")
	if _, _, err := call(t, s, one, "GET", "https://b/", ""); err != nil {
		t.Fatal(err)
	}
	var le *binding.SubrequestLimitError
	if _, _, err := call(t, s, one, "GET", "https://b/", ""); !errors.As(err, &le) {
		t.Fatalf("over budget: %v", err)
	}
}

func TestUnreadBodyDoesNotHoldTheCallee(t *testing.T) {
	b := loaded(t, "b", echo, 1, 2000)
	s := service.NewBinder(func(string) *dispatch.Service { return b }, service.Config{}).Binding("a", "B", "b")
	for range 3 {
		ctx, cancel := context.WithCancel(inv())
		req, _ := http.NewRequest("GET", "https://b/big", nil)
		resp, err := s.Fetch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if _, err := resp.Body.Read(buf); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // the rest is dropped; the callee finishes
		cancel()
	}
	// The single instance is free again.
	resp, body, err := call(t, s, inv(), "GET", "https://b/", "")
	if err != nil || resp.StatusCode != 201 || body == "" {
		t.Fatalf("after abandoned bodies: %v %v", err, resp)
	}
}
