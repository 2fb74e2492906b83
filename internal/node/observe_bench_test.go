package node_test

import (
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/node"
)

var observeRounds = flag.Int("observe.rounds", 6, "rounds of BenchmarkObserve")

// BenchmarkObserve measures what observability costs on the whole hot
// path (socket → gateway → pool → JS instance → response), through real
// loopback sockets: the same hello worker on three nodes, with metrics,
// traces and usage off, with metrics and usage but no tracing, and with
// everything (every request traced and kept for `wisp trace`), next to a
// raw net/http handler, in the same run:
//
//	go test ./internal/node -run XXX -bench Observe -cpu 2 -observe.rounds 6
//
// The variants are interleaved in rounds (a burst of load from elsewhere
// hits one round of each), and each round starts its nodes afresh in a
// rotated order: the node started first in a process was measurably
// slower, whatever its configuration. Compare the variants' medians.
func BenchmarkObserve(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		io.WriteString(w, "Hello, world!")
	})}
	go raw.Serve(ln)
	defer raw.Close()
	variants := []struct {
		name string
		obs  node.Observability
	}{
		{"observe-off", node.Observability{Off: true}},
		{"metrics-usage", node.Observability{NoTracing: true}},
		{"metrics-usage-traces", node.Observability{}},
	}
	for round := range *observeRounds {
		b.Run("raw-net-http", func(b *testing.B) { drive(b, "http://"+ln.Addr().String()+"/hello") })
		addrs := make([]string, len(variants))
		stops := make([]func(), len(variants))
		order := make([]int, len(variants))
		for k := range variants {
			i := (k + round) % len(variants)
			order[k] = i
			addrs[i], stops[i] = benchNodeWith(b, variants[i].obs)
		}
		for _, i := range order {
			b.Run(variants[i].name, func(b *testing.B) { drive(b, "http://"+addrs[i]+"/hello") })
		}
		for _, stop := range stops {
			stop()
		}
	}
}

func benchNodeWith(b *testing.B, obs node.Observability) (addr string, stop func()) {
	n := node.New(node.Config{DataDir: b.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second, Observe: obs})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		b.Fatalf("start node: %v", err)
	}
	mustDeploy(b, adminClient(n), writeService(b, "name = \"hello\"\nmain = \"index.js\"\nroutes = [\"/hello\"]\n[limits]\nmax_instances = 8\n", map[string]string{
		"index.js": "export default { fetch() { return new Response('Hello, world!') } }",
	}))
	return n.GatewayAddr(), func() { _ = n.Shutdown(context.Background()) }
}
