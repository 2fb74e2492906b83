package kv_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
)

// warmWorker loads a JS worker bound to ns as env.DATA and returns its
// pool with one instance started.
func warmWorker(b *testing.B, src string, ns binding.KV) *dispatch.Pool {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	code, err := bundle.JS(dir, "index.js")
	if err != nil {
		b.Fatal(err)
	}
	m := &manifest.Manifest{Name: "bench", Main: "index.js", Limits: manifest.Limits{TimeoutMS: 10000, MaxInstances: 1}}
	env := &binding.Env{KV: map[string]binding.KV{"DATA": ns}}
	mod, err := js.Engine{}.Load(context.Background(), runtime.Spec{Service: "bench", Version: "v1", Manifest: m, Code: code, Env: env, Logs: logs.Discard})
	if err != nil {
		b.Fatal(err)
	}
	p := dispatch.NewPool(mod, dispatch.PoolConfig{Max: 1}, slog.New(slog.DiscardHandler))
	b.Cleanup(p.Close)
	if err := p.Prewarm(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkKVFromWarmWorker times one request to a warm JS worker that
// does nothing, one KV get, or one KV put, against the embedded JetStream;
// and the same get and put called from Go, the floor under them.
func BenchmarkKVFromWarmWorker(b *testing.B) {
	ns, err := open(b, newClock()).Private("bench", "DATA")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := ns.Put(ctx, "k", []byte("a value of some thirty bytes..."), binding.KVPutOptions{}); err != nil {
		b.Fatal(err)
	}
	req := &runtime.Request{ID: "bench", Method: "GET", URL: "http://bench/"}
	for _, w := range []struct{ name, src string }{
		{"worker-empty", `export default { async fetch() { return new Response('x') } }`},
		{"worker-get", `export default { async fetch(req, env) { return new Response(await env.DATA.get('k')) } }`},
		{"worker-put", `export default { async fetch(req, env) { await env.DATA.put('k', 'a value of some thirty bytes...'); return new Response('x') } }`},
	} {
		b.Run(w.name, func(b *testing.B) {
			p := warmWorker(b, w.src, ns)
			for b.Loop() {
				rec := httptest.NewRecorder()
				if err := p.Fetch(ctx, req, rec); err != nil || rec.Code != 200 {
					b.Fatalf("%v %d %s", err, rec.Code, rec.Body)
				}
			}
		})
	}
	b.Run("go-get", func(b *testing.B) {
		for b.Loop() {
			if e, err := ns.Get(ctx, "k"); err != nil || e == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-put", func(b *testing.B) {
		for b.Loop() {
			if err := ns.Put(ctx, "k", []byte("a value of some thirty bytes..."), binding.KVPutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkList times list() pages in a namespace of 10,000 keys: a page
// of 1000 (which reads every key once), a page of 10 (the same scan), and
// a page under a prefix holding 100 keys (which reads only those).
func BenchmarkList(b *testing.B) {
	ns, err := open(b, newClock()).Private("bench", "MANY")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			var err error
			for i := w; i < 10_000 && err == nil; i += 8 {
				err = ns.Put(ctx, fmt.Sprintf("user:%03d:%02d", i/100, i%100), []byte("v"), binding.KVPutOptions{})
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		o    binding.KVListOptions
		want int
	}{
		{"page-1000-of-10000", binding.KVListOptions{}, 1000},
		{"page-10-of-10000", binding.KVListOptions{Limit: 10}, 10},
		{"prefix-100-of-10000", binding.KVListOptions{Prefix: "user:042:"}, 100},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				l, err := ns.List(ctx, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				if len(l.Keys) != tc.want {
					b.Fatalf("listed %d keys, want %d", len(l.Keys), tc.want)
				}
			}
		})
	}
}
