package hello_test

import (
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestHelloC deploys this folder as it is (the committed hello.wasm, a
// plain WASI program) to a real node and talks to it as CGI through the
// gateway's socket.
func TestHelloC(t *testing.T) {
	n := wasmtest.StartNode(t, "")
	n.MustDeploy(t, ".")
	tests := []struct {
		name, method, path, body string
		header                   map[string][]string
		status                   int
		want                     []string
	}{
		{name: "hello", method: "GET", path: "/hello-c/", status: 200, want: []string{"Hello, world!"}},
		{name: "route root", method: "GET", path: "/hello-c", status: 200, want: []string{"Hello, world!"}},
		{name: "cgi environment", method: "GET", path: "/hello-c/env?x=1&y=2", header: map[string][]string{"User-Agent": {"wisp-test"}}, status: 200,
			want: []string{"method=GET\n", "script=/hello-c\n", "path=/env\n", "query=x=1&y=2\n", "user-agent=wisp-test\n", "route=/hello-c/*\n"}},
		{name: "body on stdin", method: "POST", path: "/hello-c/echo", body: "ping pong", header: map[string][]string{"Content-Type": {"text/x-echo"}}, status: 201, want: []string{"ping pong"}},
		{name: "status header", method: "GET", path: "/hello-c/nowhere", status: 404, want: []string{"no page at /nowhere"}},
		{name: "abort traps", method: "GET", path: "/hello-c/crash", status: 500, want: []string{"request id"}},
		{name: "serving after the crash", method: "GET", path: "/hello-c/", status: 200, want: []string{"Hello, world!"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Do(t, tc.method, tc.path, tc.header, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d; body %q", r.Status, tc.status, r.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("body %q lacks %q", r.Body, w)
				}
			}
		})
	}
}
