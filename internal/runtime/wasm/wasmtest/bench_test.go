package wasmtest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

func repoDir(rel string) string { return filepath.Join("..", "..", "..", "..", rel) }

// BenchmarkHello compares hello-world services with a raw net/http handler
// answering the same bytes, in one run, through real loopback sockets
// (socket → gateway → route → pool → instance → response). Besides ns/op
// it reports server-µs/op: the median time the gateway spent on a request
// (from its access log), which excludes the client and the socket.
//
//	go test ./internal/runtime/wasm/wasmtest -run XXX -bench Hello -benchtime 3s
func BenchmarkHello(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!")
	})}
	go raw.Serve(ln)
	defer raw.Close()

	n := wasmtest.StartNode(b, "")
	js := b.TempDir()
	writeFile(b, filepath.Join(js, "wisp.toml"), "name = \"hello-js\"\nmain = \"index.js\"\nroutes = [\"/hello-js/*\"]\n")
	writeFile(b, filepath.Join(js, "index.js"), "export default { fetch() { return new Response('Hello, world!') } }\n")
	for _, dir := range []string{repoDir("examples/hello-go"), repoDir("examples/hello-c"), js} {
		n.MustDeploy(b, dir)
	}
	b.Run("raw-net-http", func(b *testing.B) { drive(b, "http://"+ln.Addr().String()+"/hello", nil) })
	b.Run("wisp-go-sdk", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/hello-go/", n.Logs) })
	b.Run("wisp-c-cgi", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/hello-c/", n.Logs) })
	b.Run("wisp-js", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/hello-js/", n.Logs) })
}

func writeFile(tb testing.TB, path, s string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func drive(b *testing.B, url string, hub *logs.Hub) {
	var times []time.Duration
	var mu sync.Mutex
	done := make(chan struct{})
	if hub != nil {
		entries, stop := hub.Subscribe(func(e logs.Entry) bool { return e.Kind == logs.KindRequest }, 1<<16)
		go func() {
			defer close(done)
			for e := range entries {
				if d, ok := serverTime(e.Message); ok {
					mu.Lock()
					times = append(times, d)
					mu.Unlock()
				}
			}
		}()
		defer func() {
			stop()
			<-done
			if len(times) > 0 {
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1e3, "server-µs/op")
			}
		}()
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "Hello, world!" {
				b.Errorf("status %d, body %q", resp.StatusCode, body)
				return
			}
		}
	})
}

// serverTime reads the duration at the end of an access log entry
// ("GET /path 200 1.23ms").
func serverTime(msg string) (time.Duration, bool) {
	i := strings.LastIndexByte(msg, ' ')
	if i < 0 {
		return 0, false
	}
	d, err := time.ParseDuration(msg[i+1:])
	return d, err == nil
}

// BenchmarkGoFirstRequest measures the first request to a Go service on a
// node that has just started: the compiled code comes from the node's
// cache and no instance is warm, so the request pays for instantiating
// the module and running the Go runtime's and the program's start-up.
// Each iteration restarts the node (so ns/op is mostly that, and keeps
// the iteration count small); first-server-ms/op is the gateway's time
// for the first request (median), warm-server-ms/op the same for the
// second.
//
//	go test ./internal/runtime/wasm/wasmtest -run XXX -bench FirstRequest -benchtime 10x
func BenchmarkGoFirstRequest(b *testing.B) {
	data := b.TempDir()
	n := wasmtest.StartNode(b, data)
	n.MustDeploy(b, repoDir("examples/hello-go"))
	_ = n.Shutdown(context.Background())
	var first, warm []time.Duration
	for b.Loop() {
		n := wasmtest.StartNode(b, data)
		entries, stop := n.Logs.Subscribe(func(e logs.Entry) bool { return e.Kind == logs.KindRequest }, 16)
		for i := range 2 {
			if r := n.Get(b, "/hello-go/"); r.Status != 200 {
				b.Fatalf("status %d: %s", r.Status, r.Body)
			}
			select {
			case e := <-entries:
				d, _ := serverTime(e.Message)
				if i == 0 {
					first = append(first, d)
				} else {
					warm = append(warm, d)
				}
			case <-time.After(10 * time.Second):
				b.Fatal("no access log entry")
			}
		}
		stop()
		_ = n.Shutdown(context.Background())
	}
	slices.Sort(first)
	slices.Sort(warm)
	b.ReportMetric(float64(first[len(first)/2].Microseconds())/1e3, "first-server-ms/op")
	b.ReportMetric(float64(warm[len(warm)/2].Microseconds())/1e3, "warm-server-ms/op")
}
