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
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
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
// without sockets:
//
//	go test ./internal/gateway -run XXX -bench Overhead -benchmem
func BenchmarkOverhead(b *testing.B) {
	m := &manifest.Manifest{Name: "hello", Routes: []string{"/hello"}, Limits: manifest.Limits{TimeoutMS: 30000, MaxInstances: 4}}
	svc := &dispatch.Service{Name: "hello", Version: "v1", Manifest: m, Pool: dispatch.NewPool(hello{}, dispatch.PoolConfig{Max: 4}, nil)}
	p, err := route.Parse("/hello")
	if err != nil {
		b.Fatal(err)
	}
	table, err := route.Build([]route.Entry[*dispatch.Service]{{Pattern: p, Owner: "hello", Value: svc}})
	if err != nil {
		b.Fatal(err)
	}
	snap := &gateway.Snapshot{Routes: table, Services: map[string]*dispatch.Service{"hello": svc}}
	g := &gateway.Gateway{Snapshot: func() *gateway.Snapshot { return snap }}
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = hello{}.Fetch(r.Context(), nil, w) })
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"raw-handler", raw}, {"gateway-pool", g}} {
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
