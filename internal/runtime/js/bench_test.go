package js

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

const helloWorker = `export default { fetch() { return new Response('Hello, world!') } }`

func BenchmarkWarmHello(b *testing.B) {
	inst := load(b, helloWorker, nil, nil)
	req := &runtime.Request{ID: "r", Method: "GET", URL: "http://localhost/", Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"bench"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		if err := inst.Fetch(ctx, req, rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWarmJSON(b *testing.B) {
	inst := load(b, `export default { async fetch(req) { const u = new URL(req.url); return Response.json({ path: u.pathname, q: u.searchParams.get('q'), ua: req.headers.get('user-agent') }) } }`, nil, nil)
	req := &runtime.Request{ID: "r", Method: "GET", URL: "http://localhost/items?q=1", Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"bench"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		if err := inst.Fetch(ctx, req, rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewInstance(b *testing.B) {
	inst := load(b, helloWorker, nil, nil)
	m := inst.(*instance).mod
	_ = manifest.Manifest{}
	b.ReportAllocs()
	for b.Loop() {
		in, err := m.NewInstance(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}
