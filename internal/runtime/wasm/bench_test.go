package wasm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/runtime"
)

// BenchmarkInstance measures the runtime alone (no sockets, no gateway):
// a warm call into a Go SDK instance, a fresh Go instance (instantiate,
// Go runtime start, main), and a CGI request to the C example (which
// instantiates the module afresh every time).
//
//	go test ./internal/runtime/wasm -run XXX -bench Instance
func BenchmarkInstance(b *testing.B) {
	goMod, _ := loadModule(b, repoFile(b, "examples/hello-go/hello.wasm"), loadOpts{routes: []string{"/hello-go/*"}})
	cMod, _ := loadModule(b, repoFile(b, "examples/hello-c/hello.wasm"), loadOpts{routes: []string{"/hello-c/*"}})
	req := &runtime.Request{ID: "bench", Method: "GET", URL: "http://svc.test/hello-go/", Header: http.Header{}}
	b.Run("go-warm-call", func(b *testing.B) {
		inst := newInstance(b, goMod)
		b.ReportAllocs()
		for b.Loop() {
			if err := inst.Fetch(context.Background(), req, httptest.NewRecorder()); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same call with the caches cleared before each (a 32 MB buffer
	// written over): what the guest costs when the node's own work has
	// evicted its code and data since its last request. ns/op includes
	// the clearing; call-µs is the call alone (median).
	b.Run("go-warm-call-evicted", func(b *testing.B) {
		inst := newInstance(b, goMod)
		junk := make([]byte, 32<<20)
		var calls []time.Duration
		for i := 0; b.Loop(); i++ {
			for j := 0; j < len(junk); j += 64 {
				junk[j] = byte(i)
			}
			t0 := time.Now()
			if err := inst.Fetch(context.Background(), req, httptest.NewRecorder()); err != nil {
				b.Fatal(err)
			}
			calls = append(calls, time.Since(t0))
		}
		slices.Sort(calls)
		b.ReportMetric(float64(calls[len(calls)/2])/1e3, "call-µs")
	})
	b.Run("go-new-instance", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			inst, err := goMod.NewInstance(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			inst.Close()
		}
	})
	creq := &runtime.Request{ID: "bench", Method: "GET", URL: "http://svc.test/hello-c/", Header: http.Header{}}
	b.Run("c-cgi-request", func(b *testing.B) {
		inst := newInstance(b, cMod)
		b.ReportAllocs()
		for b.Loop() {
			if err := inst.Fetch(context.Background(), creq, httptest.NewRecorder()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGoStartup splits a fresh Go SDK instance's start-up into its
// steps, each reported as a median: instantiating the module, the Go
// runtime's start (_initialize), main (wisp_init), and the first request.
// Every iteration loads the module anew (from the compilation cache), as a
// restarted node does.
//
//	go test ./internal/runtime/wasm -run XXX -bench GoStartup -benchtime 20x
func BenchmarkGoStartup(b *testing.B) {
	code := repoFile(b, "examples/hello-go/hello.wasm")
	req := &runtime.Request{ID: "bench", Method: "GET", URL: "http://svc.test/hello-go/", Header: http.Header{}}
	var steps [4][]time.Duration
	for b.Loop() {
		mod, _ := loadModule(b, code, loadOpts{routes: []string{"/hello-go/*"}})
		m := mod.(*module)
		r := &reactor{mod: m}
		r.stdout, r.stderr = newLogWriter(&m.spec, logs.Info), newLogWriter(&m.spec, logs.Error)
		ctx := context.WithValue(context.Background(), reactorKey{}, r)
		t0 := time.Now()
		inst, err := m.instantiate(ctx, wazero.NewModuleConfig().WithName("").WithSysWalltime().WithSysNanotime())
		if err != nil {
			b.Fatal(err)
		}
		r.inst, r.handle = inst, inst.ExportedFunction(exportHandle)
		t1 := time.Now()
		if _, err := m.call(ctx, inst, inst.ExportedFunction(exportReact)); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := m.call(ctx, inst, inst.ExportedFunction(exportInit)); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if err := r.Fetch(context.Background(), req, httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)} {
			steps[i] = append(steps[i], d)
		}
		r.Close()
		mod.Close()
		sharedEngine = NewEngine(testCacheDir) // the next module is loaded anew
	}
	for i, name := range []string{"instantiate-ms", "go-runtime-ms", "main-ms", "first-request-ms"} {
		slices.Sort(steps[i])
		b.ReportMetric(float64(steps[i][len(steps[i])/2].Microseconds())/1e3, name)
	}
}
