package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestHelloGo deploys this folder as it is (the committed hello.wasm) to a
// real node and talks to it through the gateway's socket.
func TestHelloGo(t *testing.T) {
	n := wasmtest.StartNode(t, "")
	entries, stop := n.Logs.Subscribe(nil, 1024)
	defer stop()
	n.MustDeploy(t, ".")

	if r := n.Get(t, "/hello-go/"); r.Status != 200 || r.Body != "Hello, world!" {
		t.Fatalf("GET /hello-go/: %d %q", r.Status, r.Body)
	}
	// One instance serves request after request: its globals persist.
	for i, want := range []string{`"requests":1`, `"requests":2`} {
		r := n.Get(t, "/hello-go/greet/ann")
		if r.Status != 200 || !strings.Contains(r.Body, `"message":"Hello, ann!"`) || !strings.Contains(r.Body, want) {
			t.Fatalf("greet #%d: %d %q, want %s", i+1, r.Status, r.Body, want)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("greet: Content-Type %q", ct)
		}
	}
	r := n.Do(t, "POST", "/hello-go/echo", map[string][]string{"Content-Type": {"text/x-echo"}}, "ping")
	if r.Status != 201 || r.Body != "ping" || r.Header.Get("Content-Type") != "text/x-echo" {
		t.Fatalf("echo: %d %q %v", r.Status, r.Body, r.Header)
	}

	// A panic stops the instance: 500 with the request id, logged; the
	// next request gets a fresh instance.
	r = n.Get(t, "/hello-go/panic")
	id := r.Header.Get("X-Wisp-Request-Id")
	if r.Status != 500 || id == "" || !strings.Contains(r.Body, id) {
		t.Fatalf("panic: %d %q (id %q)", r.Status, r.Body, id)
	}
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for {
			select {
			case e := <-entries:
				if e.RequestID == id && e.Level == logs.Error && strings.Contains(e.Message, "you asked for it") {
					return nil
				}
			default:
				return errNotYet
			}
		}
	})
	if r := n.Get(t, "/hello-go/greet/bob"); r.Status != 200 || !strings.Contains(r.Body, `"requests":1`) {
		t.Fatalf("after the panic: %d %q", r.Status, r.Body)
	}
}

var errNotYet = errors.New("the panic's log entry has not arrived")
