package wasm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// TestCompileCacheSurvivesRestart: a second engine on the same cache
// folder (a restarted node) loads modules without compiling them again:
// it writes nothing to the cache, and the modules work.
func TestCompileCacheSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	files := []string{"examples/hello-rust/hello.wasm", "examples/hello-c-abi/hello.wasm"}
	load := func(e *Engine, f string) (runtime.Module, time.Duration) {
		m := &manifest.Manifest{Name: "svc", Wasm: "svc.wasm", Routes: []string{"/*"}}
		m.Limits.MemoryMB, m.Limits.TimeoutMS = 64, 1000
		start := time.Now()
		mod, err := e.Load(context.Background(), runtime.Spec{Service: "svc", Version: "v", Manifest: m, Code: repoFile(t, f), Env: &binding.Env{}})
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		return mod, time.Since(start)
	}
	first := NewEngine(dir)
	for _, f := range files {
		_, d := load(first, f)
		t.Logf("%s: compiled in %v", f, d)
	}
	before := snapshot(t, dir)
	if len(before) == 0 {
		t.Fatal("nothing was written to the cache")
	}
	second := NewEngine(dir)
	for _, f := range files {
		mod, d := load(second, f)
		t.Logf("%s: loaded from the cache in %v", f, d)
		inst := newInstance(t, mod)
		if rec, err := fetch(inst, 0, "GET", "http://svc.test/", nil, ""); err != nil || rec.Code != 200 {
			t.Fatalf("%s from the cache: %v %d", f, err, rec.Code)
		}
	}
	if after := snapshot(t, dir); !equalSnapshots(before, after) {
		t.Fatalf("the second engine wrote to the cache (it compiled again):\nbefore %v\nafter  %v", before, after)
	}
}

func snapshot(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out[p] = info.ModTime()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalSnapshots(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !b[k].Equal(v) {
			return false
		}
	}
	return true
}
