package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/store/storetest"
	"github.com/wisp-run/wisp/internal/usage"
)

// hello is an instance that answers like the hello-world worker, so the
// benchmark measures what the gateway and the pool add, nothing else.
type hello struct{}

func (hello) NewInstance(context.Context) (runtime.Instance, error) { return hello{}, nil }
func (hello) Close()                                                {}
func (hello) Fetch(_ context.Context, _ *runtime.Request, w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	_, err := io.WriteString(w, "Hello, world!")
	return err
}

// BenchmarkOverhead compares a request through route match, body read,
// deadline, pool and back with a handler writing the same answer, both
// without sockets; the gateway with observability off, with metrics and
// usage, and with metrics, usage and a span per request kept in the
// node's trace buffer:
//
//	go test ./internal/gateway -run XXX -bench Overhead -benchmem -count 5
func BenchmarkOverhead(b *testing.B) {
	st := storetest.Open(b)
	meter, err := usage.Open(context.Background(), st.JS, usage.Config{Node: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer meter.Close()
	metricsOnly, err := observe.New(observe.Config{NoTracing: true, Usage: meter})
	if err != nil {
		b.Fatal(err)
	}
	traced, err := observe.New(observe.Config{Usage: meter})
	if err != nil {
		b.Fatal(err)
	}
	gw := func(obs *observe.Observer) http.Handler {
		m := &manifest.Manifest{Name: "hello", Routes: []string{"/hello"}, Limits: manifest.Limits{TimeoutMS: 30000, MaxInstances: 4, MemoryMB: 128}}
		pool := dispatch.NewPool(hello{}, dispatch.PoolConfig{Max: 4, Observe: obs.Service("hello", "v1", 128)}, nil)
		svc := &dispatch.Service{Name: "hello", Version: "v1", Manifest: m, Pool: pool}
		p, err := route.Parse("/hello")
		if err != nil {
			b.Fatal(err)
		}
		table, err := route.Build([]route.Entry[*dispatch.Service]{{Pattern: p, Owner: "hello", Value: svc}})
		if err != nil {
			b.Fatal(err)
		}
		snap := &gateway.Snapshot{Routes: table, Services: map[string]*dispatch.Service{"hello": svc}}
		return &gateway.Gateway{Snapshot: func() *gateway.Snapshot { return snap }}
	}
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = hello{}.Fetch(r.Context(), nil, w) })
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"raw-handler", raw}, {"gateway-pool", gw(nil)}, {"gateway-pool-metrics-usage", gw(metricsOnly)}, {"gateway-pool-metrics-usage-traces", gw(traced)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "http://example.com/hello", nil)
				r.Header.Set("User-Agent", "bench")
				r.Header.Set("Accept", "*/*")
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					w.code = 0
					tc.h.ServeHTTP(w, r)
					if w.code != 200 {
						b.Fatalf("status %d", w.code)
					}
				}
			})
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(200)
	return len(b), nil
}
