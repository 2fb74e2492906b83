package service_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/service"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
)

func benchPool(b *testing.B, name, src string, env *binding.Env) *dispatch.Pool {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	code, err := bundle.JS(dir, "index.js")
	if err != nil {
		b.Fatal(err)
	}
	m := &manifest.Manifest{Name: name, Main: "index.js", Limits: manifest.Limits{TimeoutMS: 10000, MaxInstances: 1}}
	mod, err := js.Engine{}.Load(context.Background(), runtime.Spec{Service: name, Version: "v1", Manifest: m, Code: code, Env: env, Logs: logs.Discard})
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

// BenchmarkServiceBinding compares calling a warm JS handler directly
// (through its pool, as the gateway does) with calling it through a
// service binding: from Go (what the wasm runtime does) and from another
// warm JS worker. caller-empty is that worker's own cost without the
// call, caller-web-objects its cost building the Request and Response
// objects a call needs, without the call.
func BenchmarkServiceBinding(b *testing.B) {
	callee := benchPool(b, "b", `export default { async fetch(req) { return new Response('pong') } }`, &binding.Env{})
	calleeSvc := &dispatch.Service{Name: "b", Version: "v1", Manifest: &manifest.Manifest{Name: "b", Limits: manifest.Limits{TimeoutMS: 10000}}, Pool: callee}
	binder := service.NewBinder(func(string) *dispatch.Service { return calleeSvc }, service.Config{})
	env := &binding.Env{Services: map[string]binding.Service{"B": binder.Binding("a", "B", "b")}}
	ctx := context.Background()
	req := &runtime.Request{ID: "bench", Method: "GET", URL: "http://bench/"}
	run := func(b *testing.B, p *dispatch.Pool, want string) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			if err := p.Fetch(ctx, req, rec); err != nil || rec.Body.String() != want {
				b.Fatalf("%v %q", err, rec.Body)
			}
		}
	}
	b.Run("callee-direct", func(b *testing.B) { run(b, callee, "pong") })
	b.Run("caller-empty", func(b *testing.B) {
		run(b, benchPool(b, "a", `export default { async fetch(req, env) { return new Response('x') } }`, env), "x")
	})
	b.Run("go-via-binding", func(b *testing.B) {
		s := binder.Binding("a", "B", "b")
		ictx := binding.StartInvocation(ctx, 1<<62)
		for b.Loop() {
			hreq, _ := http.NewRequest("GET", "https://b/", nil)
			resp, err := s.Fetch(ictx, hreq)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "pong" {
				b.Fatalf("%q", body)
			}
		}
	})
	b.Run("caller-web-objects", func(b *testing.B) {
		// What the JS binding builds around a call (a Request, Headers, a
		// Response read as text), without the call.
		run(b, benchPool(b, "a", `export default { async fetch(req, env) { const r = new Request('https://b/'); const h = []; r.headers.forEach((v, k) => h.push(k, v)); const hs = new Headers(); hs.append('content-type', 'text/plain'); return new Response(await new Response('pong', { status: 200, headers: hs }).text()) } }`, env), "pong")
	})
	b.Run("caller-via-binding", func(b *testing.B) {
		run(b, benchPool(b, "a", `export default { async fetch(req, env) { return new Response(await (await env.B.fetch('https://b/')).text()) } }`, env), "pong")
	})
}
