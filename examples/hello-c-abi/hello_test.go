package hello_test

import (
	"testing"

	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestHelloCABI deploys this folder as it is (the committed hello.wasm, C
// speaking the wisp ABI with no SDK) to a real node and talks to it
// through the gateway's socket: one instance serves request after request.
func TestHelloCABI(t *testing.T) {
	n := wasmtest.StartNode(t, "")
	n.MustDeploy(t, ".")
	for i, want := range []string{
		"Hi from C! GET http://" + n.GatewayAddr() + "/hello-c-abi/x (request 1 of this instance)\n",
		"Hi from C! GET http://" + n.GatewayAddr() + "/hello-c-abi/x (request 2 of this instance)\n",
	} {
		r := n.Get(t, "/hello-c-abi/x")
		if r.Status != 200 || r.Body != want || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("request %d: %d %q %v, want %q", i+1, r.Status, r.Body, r.Header, want)
		}
	}
}
