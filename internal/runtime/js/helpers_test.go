package js

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

type memLogs struct {
	mu      sync.Mutex
	entries []logs.Entry
}

func (m *memLogs) Write(e logs.Entry) {
	m.mu.Lock()
	m.entries = append(m.entries, e)
	m.mu.Unlock()
}

func (m *memLogs) text() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, e := range m.entries {
		b.WriteString(string(e.Level) + " " + e.Message + "\n")
	}
	return b.String()
}

// limitsConfig sets a test worker's [limits].
type limitsConfig struct {
	memoryMB, timeoutMS int
	env                 *binding.Env
	manifest            func(*manifest.Manifest)
}

// load bundles src (the worker's index.js) and returns a ready instance.
func load(t testing.TB, src string, vars map[string]any, lg *memLogs) runtime.Instance {
	t.Helper()
	return loadWith(t, src, limitsConfig{env: &binding.Env{Vars: vars}}, lg)
}

// loadWith is load with limits and bindings.
func loadWith(t testing.TB, src string, lc limitsConfig, lg *memLogs) runtime.Instance {
	t.Helper()
	var sink logs.Sink = logs.Discard
	if lg != nil {
		sink = lg
	}
	inst, err := tryLoadSink(t, src, lc, sink)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// tryLoad is loadWith returning the load error.
func tryLoad(t testing.TB, src string, lc limitsConfig) (runtime.Instance, error) {
	t.Helper()
	return tryLoadSink(t, src, lc, logs.Discard)
}

func tryLoadSink(t testing.TB, src string, lc limitsConfig, sink logs.Sink) (runtime.Instance, error) {
	t.Helper()
	if lc.timeoutMS == 0 {
		lc.timeoutMS = 1000
	}
	if lc.memoryMB == 0 {
		lc.memoryMB = 128
	}
	if lc.env == nil {
		lc.env = &binding.Env{}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err := bundle.JS(dir, "index.js")
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	m := &manifest.Manifest{Name: "t", Main: "index.js", Vars: lc.env.Vars, Limits: manifest.Limits{TimeoutMS: lc.timeoutMS, MemoryMB: lc.memoryMB}}
	if lc.manifest != nil {
		lc.manifest(m)
	}
	mod, err := Engine{}.Load(context.Background(), runtime.Spec{Service: "t", Version: "v1", Manifest: m, Code: code, Env: lc.env, Logs: sink})
	if err != nil {
		return nil, err
	}
	inst, err := mod.NewInstance(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(inst.Close)
	return inst, nil
}

func envWith(vars map[string]any) *binding.Env { return &binding.Env{Vars: vars} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func do(t testing.TB, inst runtime.Instance, method, url, body string, timeout time.Duration) (*httptest.ResponseRecorder, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req := &runtime.Request{ID: "req1", Method: method, URL: url, Header: http.Header{"X-Test": {"yes"}}, Body: []byte(body)}
	rec := httptest.NewRecorder()
	err := inst.Fetch(ctx, req, rec)
	return rec, err
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
