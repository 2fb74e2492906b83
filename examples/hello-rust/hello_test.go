package hello_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestHelloRust deploys this folder as it is (the committed hello.wasm,
// Rust's std on WASI) to a real node and talks to it as CGI through the
// gateway's socket.
func TestHelloRust(t *testing.T) {
	n := wasmtest.StartNode(t, "")
	n.MustDeploy(t, ".")
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"hello", "GET", "/hello-rust/", "", 200, "Hello, world!"},
		{"query string", "GET", "/hello-rust/query?a=1&b=two", "", 200, `{"pairs":["a=1","b=two"]}`},
		{"body on stdin", "POST", "/hello-rust/upper", "shout", 200, "SHOUT"},
		{"not found", "GET", "/hello-rust/nope", "", 404, "no page at GET /nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Do(t, tc.method, tc.path, nil, tc.body)
			if r.Status != tc.status || !strings.Contains(r.Body, tc.want) {
				t.Fatalf("%d %q, want %d with %q", r.Status, r.Body, tc.status, tc.want)
			}
		})
	}

	// An endless loop is stopped at the deadline (timeout_ms = 1000) with a
	// 504; the node keeps serving.
	start := time.Now()
	r := n.Get(t, "/hello-rust/spin")
	if r.Status != 504 || !strings.Contains(r.Body, "time limit") {
		t.Fatalf("spin: %d %q", r.Status, r.Body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("spin took %v to stop; the deadline is 1s", d)
	}
	if r := n.Get(t, "/hello-rust/"); r.Status != 200 {
		t.Fatalf("after the loop: %d %q", r.Status, r.Body)
	}
}
