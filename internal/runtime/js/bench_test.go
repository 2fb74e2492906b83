package js

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// The workers of the benchmark suite (bench/env.go), so that in-process
// and end-to-end figures are for the same code.
const (
	helloWorker = `export default { fetch() { return new Response('Hello, world!') } }`
	jsonWorker  = `export default { async fetch(req) { const u = new URL(req.url); return Response.json({ path: u.pathname, q: u.searchParams.get('q'), ua: req.headers.get('user-agent') }) } }`
)

var benchRequest = &runtime.Request{ID: "r", Method: "GET", URL: "http://localhost/items?q=1", Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"bench"}}}

// ipRequest is benchRequest as the gateway passes it when the client
// addresses the node by IP, as the benchmark suite (bench/) does.
var ipRequest = &runtime.Request{ID: "r", Method: "GET", URL: "http://127.0.0.1:8080/json?q=1", Header: benchRequest.Header}

// go test ./internal/runtime/js -run XXX -bench . -benchmem
func BenchmarkWarmHello(b *testing.B)      { benchWarm(b, helloWorker, benchRequest) }
func BenchmarkWarmJSON(b *testing.B)       { benchWarm(b, jsonWorker, benchRequest) }
func BenchmarkWarmJSONIPHost(b *testing.B) { benchWarm(b, jsonWorker, ipRequest) }

func benchWarm(b *testing.B, src string, req *runtime.Request) {
	inst := load(b, src, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		if err := inst.Fetch(ctx, req, rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewInstance is a new runtime with the worker evaluated in it.
func BenchmarkNewInstance(b *testing.B) {
	m := load(b, helloWorker, nil, nil).(*instance).mod
	b.ReportAllocs()
	for b.Loop() {
		in, err := m.NewInstance(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

// BenchmarkColdRequest is the first request to a worker with no runtime
// (scale from zero): a new instance, then its first fetch, which also
// makes the Web API classes the worker touches.
func BenchmarkColdRequest(b *testing.B) {
	for _, w := range []struct{ name, src string }{{"hello", helloWorker}, {"json", jsonWorker}} {
		b.Run(w.name, func(b *testing.B) {
			m := load(b, w.src, nil, nil).(*instance).mod
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				in, err := m.NewInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := in.Fetch(ctx, benchRequest, httptest.NewRecorder()); err != nil {
					b.Fatal(err)
				}
				in.Close()
			}
		})
	}
}

// BenchmarkDeployToFirstResponse adds compiling the bundle (a version no
// node has seen) to the cold request.
func BenchmarkDeployToFirstResponse(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(jsonWorker), 0o644); err != nil {
		b.Fatal(err)
	}
	code, err := bundle.JS(dir, "index.js")
	if err != nil {
		b.Fatal(err)
	}
	spec := runtime.Spec{Service: "b", Version: "v", Manifest: &manifest.Manifest{Name: "b", Limits: manifest.Limits{MemoryMB: 128, TimeoutMS: 1000}}, Code: code, Env: &binding.Env{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := Engine{}.Load(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		in, err := m.NewInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := in.Fetch(ctx, benchRequest, httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
		in.Close()
		m.Close()
	}
}

// BenchmarkWarmInstanceHeap is the live heap a warm hello-world instance
// keeps (after its first request), what a dense node holds per service
// within its keep-alive (the last run's instances stay alive, so that
// the heap profile shows what they hold):
//
//	go test ./internal/runtime/js -run XXX -bench WarmInstanceHeap -memprofile mem.out -memprofilerate 4096
//	go tool pprof -sample_index=inuse_space -top mem.out
func BenchmarkWarmInstanceHeap(b *testing.B) {
	m := load(b, helloWorker, nil, nil).(*instance).mod
	ctx := context.Background()
	var kept []runtime.Instance
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	for b.Loop() {
		in, err := m.NewInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := in.Fetch(ctx, benchRequest, httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
		kept = append(kept, in)
	}
	b.StopTimer()
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(kept)), "live-B/instance")
	warmKept = kept // alive for -memprofile, which is written after a collection at exit
}

var warmKept []runtime.Instance
