package wasm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// repoFile reads a file relative to the repository root.
func repoFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memLogs collects log entries.
type memLogs struct {
	mu      sync.Mutex
	entries []logs.Entry
}

func (l *memLogs) Write(e logs.Entry) {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

func (l *memLogs) find(sub string) *logs.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.entries {
		if strings.Contains(l.entries[i].Message, sub) {
			e := l.entries[i]
			return &e
		}
	}
	return nil
}

// sharedEngine caches compiled code on disk (see guest_test.go), so the
// big Go modules are compiled once.
var sharedEngine *Engine

type loadOpts struct {
	routes  []string
	memMB   int
	timeout time.Duration
	env     *binding.Env
}

func loadModule(t testing.TB, code []byte, o loadOpts) (runtime.Module, *memLogs) {
	t.Helper()
	m := &manifest.Manifest{Name: "svc", Wasm: "svc.wasm", Routes: o.routes}
	m.Limits.MemoryMB = o.memMB
	if m.Limits.MemoryMB == 0 {
		m.Limits.MemoryMB = manifest.DefaultMemoryMB
	}
	m.Limits.TimeoutMS = int(o.timeout / time.Millisecond)
	if o.env == nil {
		o.env = &binding.Env{}
	}
	l := &memLogs{}
	mod, err := sharedEngine.Load(context.Background(), runtime.Spec{Service: "svc", Version: "v1", Manifest: m, Code: code, Env: o.env, Logs: l})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return mod, l
}

func newInstance(t testing.TB, mod runtime.Module) runtime.Instance {
	t.Helper()
	inst, err := mod.NewInstance(context.Background())
	if err != nil {
		t.Fatalf("new instance: %v", err)
	}
	t.Cleanup(inst.Close)
	return inst
}

// fetch runs one request on inst with a deadline.
func fetch(inst runtime.Instance, timeout time.Duration, method, url string, header http.Header, body string) (*httptest.ResponseRecorder, error) {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if header == nil {
		header = http.Header{}
	}
	rec := httptest.NewRecorder()
	err := inst.Fetch(ctx, &runtime.Request{ID: "req-1", Method: method, URL: url, Header: header, Body: []byte(body)}, rec)
	return rec, err
}
