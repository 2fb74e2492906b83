package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/project"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestPricing deploys the whole shop (the JS and TS services and this Go
// one) to a real node and asks for quotes through the gateway's socket.
func TestPricing(t *testing.T) {
	n := wasmtest.StartNode(t, "")
	services, err := project.Discover("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		n.MustDeploy(t, s.Dir)
	}
	if len(services) != 7 || filepath.Base(services[4].Dir) != "pricing" {
		t.Fatalf("the shop has %d services", len(services))
	}
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/pricing/kayak-single", 200, `{"sku":"kayak-single","days":1,"daily":4000,"gross":4000,"discountPercent":0,"net":4000,"currency":"EUR"}`},
		{"/api/pricing/bike-city?days=3", 200, `"gross":4500,"discountPercent":10,"net":4050`},
		{"/api/pricing/tent-2p?days=10", 200, `"gross":12000,"discountPercent":25,"net":9000`},
		{"/api/pricing/tent-2p?days=0", 400, "days must be a whole number"},
		{"/api/pricing/unicycle", 404, `{"error":"no such item: unicycle"}`},
		{"/api/inventory/kayak-single", 200, "Single kayak"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := n.Get(t, tc.path)
			if r.Status != tc.status || !strings.Contains(r.Body, tc.want) {
				t.Fatalf("%d %q, want %d with %q", r.Status, r.Body, tc.status, tc.want)
			}
		})
	}
}
