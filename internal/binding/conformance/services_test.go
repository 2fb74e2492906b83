package conformance

import (
	"fmt"
	"strings"
	"testing"
)

func TestServiceBindings(t *testing.T) {
	forEachRunner(t, func(t *testing.T, s *suite) {
		// The callee has no routes: only a binding reaches it.
		s.deploy("callee", "")
		res := s.deploy("caller", "[[services]]\nbinding = \"CALLEE\"\nservice = \"callee\"\n\n[[services]]\nbinding = \"GHOST\"\nservice = \"ghost\"\n")
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `GHOST binds service "ghost", which does not exist`) {
			t.Fatalf("deploy warnings: %q", res.Warnings)
		}

		t.Run("call", func(t *testing.T) {
			s := s.with(t)
			got := asMap(t, s.ok("caller", m{"op": "svc.fetch", "binding": "CALLEE", "url": "https://callee.internal/items?x=1",
				"method": "PUT", "headers": m{"x-test": "yes"}, "body": "hello"}))
			body := asMap(t, got["body"])
			if got["status"] != 201.0 || asMap(t, got["headers"])["x-guest"] == nil ||
				body["method"] != "PUT" || body["url"] != "https://callee.internal/items?x=1" || body["host"] != "callee.internal" ||
				body["test"] != "yes" || body["body"] != "hello" {
				t.Fatalf("call = %v", got)
			}
			if asMap(t, got["headers"])["x-wisp-request-id"] == nil {
				t.Fatalf("no request id on the callee's response: %v", got["headers"])
			}
		})

		t.Run("missing service", func(t *testing.T) {
			s.with(t).fails("caller", m{"op": "svc.fetch", "binding": "GHOST", "url": "https://ghost/"},
				`service binding GHOST: service "ghost" does not exist or is not loaded on this node`)
		})

		t.Run("cycle", func(t *testing.T) {
			s := s.with(t)
			s.deploy("ping", "[[services]]\nbinding = \"PONG\"\nservice = \"pong\"\n")
			s.deploy("pong", "[[services]]\nbinding = \"PING\"\nservice = \"ping\"\n")
			// ping asks pong to call ping back.
			got := asMap(t, s.ok("ping", m{"op": "svc.fetch", "binding": "PONG", "url": "https://pong/rpc", "method": "POST",
				"body": m{"op": "svc.fetch", "binding": "PING", "url": "https://ping/rpc", "method": "POST", "body": m{"op": "env.keys"}}}))
			inner := asMap(t, got["body"])
			msg := fmt.Sprint(asMap(t, inner["error"])["message"])
			if got["status"] != 200.0 || !strings.Contains(msg, "service binding PING: calling ping would make a cycle (ping → pong → ping)") {
				t.Fatalf("cycle: %v", got)
			}
			res := s.deploy("narcissus", "[[services]]\nbinding = \"SELF\"\nservice = \"narcissus\"\n")
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "SELF binds the service itself") {
				t.Fatalf("self-binding warnings: %q", res.Warnings)
			}
			s.fails("narcissus", m{"op": "svc.fetch", "binding": "SELF", "url": "https://narcissus/"}, "would make a cycle (narcissus → narcissus)")
		})
	})
}
