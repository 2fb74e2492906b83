package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGrowServerKeeps checks the growing-heap baseline through its socket
// and the bench's own client: each /grow keeps growKB KB more and reports
// its handler's time; /hello keeps nothing.
func TestGrowServerKeeps(t *testing.T) {
	g := newGrowServer(1)
	base := g.keptKB()
	if base < 1000 || base > 1024+growKB {
		t.Fatalf("a 1 MB base keeps %d KB", base)
	}
	srv := httptest.NewServer(g.handler())
	defer srv.Close()
	vs, err := timeVisitsKeeping([]string{srv.URL + "/grow", srv.URL + "/hello", srv.URL + "/grow"}, "x-handler-ns:")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.keptKB() - base; got != 2*growKB {
		t.Fatalf("two /grow kept %d KB more, want %d", got, 2*growKB)
	}
	for i, v := range vs {
		if i == 1 {
			continue
		}
		if v.requestID == "" || strings.Trim(v.requestID, "0123456789") != "" || v.requestID == "0" {
			t.Fatalf("/grow #%d: X-Handler-Ns %q, want a positive count of ns", i, v.requestID)
		}
	}
	if got := len(growChunk(growKB)); got != growKB<<10/64 {
		t.Fatalf("a chunk holds %d nodes", got)
	}
}
