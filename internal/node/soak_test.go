//go:build soak

package node_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
)

// TestSoak drives 20 services of mixed kinds (fast, slow, throwing, with
// and without min_instances, small max_instances so callers queue) from
// many clients for WISP_SOAK_DURATION (default 60s), under a node budget
// smaller than their maxima, while some of them are redeployed. No request
// may be lost (every answer is the expected one) and afterwards every
// pool must return to its min_instances.
//
//	go test -tags soak -race -run TestSoak ./internal/node
func TestSoak(t *testing.T) {
	duration := 60 * time.Second
	if v := os.Getenv("WISP_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("WISP_SOAK_DURATION: %v", err)
		}
		duration = d
	}
	n := startScaled(t, node.Scale{KeepAlive: 300 * time.Millisecond, MaxInstances: 30})
	c := adminClient(n)

	type svc struct {
		name, kind string
		min        int
	}
	var svcs []svc
	kinds := []string{"hello", "json", "slow", "throw"}
	for i := range 20 {
		s := svc{name: fmt.Sprintf("soak%02d", i), kind: kinds[i%len(kinds)], min: i % 3}
		svcs = append(svcs, s)
		mustDeploy(t, c, soakService(t, s.name, s.kind, s.min, 1))
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var sent, lost atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for g := range 48 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for ctx.Err() == nil {
				// Skewed: the first services get most of the traffic.
				s := svcs[min(rng.IntN(20), rng.IntN(20))]
				sent.Add(1)
				if err := soakRequest(hc, n.GatewayAddr(), s.name, s.kind); err != nil {
					lost.Add(1)
					mu.Lock()
					if len(failures) < 10 {
						failures = append(failures, err.Error())
					}
					mu.Unlock()
				}
			}
		})
	}
	// Redeploys under load: a new version of a few services every few
	// seconds (their callers move to it; in-flight requests finish).
	wg.Go(func() {
		gen := 2
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
			for _, s := range svcs[:4] {
				if _, err := deploy(t, c, soakService(t, s.name, s.kind, s.min, gen)); err != nil {
					mu.Lock()
					failures = append(failures, "redeploy: "+err.Error())
					mu.Unlock()
					lost.Add(1)
				}
			}
			gen++
		}
	})
	wg.Wait()
	var cold, evicted, expired uint64
	for _, s := range svcs {
		p := poolOf(t, n, s.name)
		cold, evicted, expired = cold+p.ColdStarts, evicted+p.Evicted, expired+p.Expired
	}
	t.Logf("%d requests in %s, %d lost; current versions: %d cold starts, %d instances evicted for budget, %d expired",
		sent.Load(), duration, lost.Load(), cold, evicted, expired)
	if lost.Load() > 0 {
		t.Fatalf("%d of %d requests lost; first failures:\n%s", lost.Load(), sent.Load(), strings.Join(failures, "\n"))
	}
	wantTotal := 0
	for _, s := range svcs {
		wantTotal += s.min
	}
	poll.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		for _, s := range svcs {
			p := poolOf(t, n, s.name)
			if p.Instances != s.min || p.Busy != 0 || p.Waiting != 0 {
				return fmt.Errorf("%s: pool %+v; want back to %d idle instances", s.name, p, s.min)
			}
		}
		if b := n.Budget().Snapshot(); b.Instances != wantTotal || b.Waiting != 0 {
			return fmt.Errorf("budget %+v; want %d instances held (the mins)", b, wantTotal)
		}
		return nil
	})
}

// soakService is a service of a kind; gen goes into its answers so every
// redeploy is a new version.
func soakService(t *testing.T, name, kind string, minInst, gen int) string {
	var body string
	switch kind {
	case "hello":
		body = `return new Response('hello ' + GEN)`
	case "json":
		body = `const u = new URL(req.url); return Response.json({ path: u.pathname, gen: GEN })`
	case "slow":
		body = `await new Promise(r => setTimeout(r, 5 + Math.floor(Math.random() * 15))); return new Response('slow ' + GEN)`
	case "throw":
		body = `if (new URL(req.url).searchParams.has('boom')) throw new Error('boom'); return new Response('fine ' + GEN)`
	}
	toml := fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [\"/%s/*\"]\n[limits]\nmin_instances = %d\nmax_instances = %d\n", name, name, minInst, 2+minInst)
	return writeService(t, toml, map[string]string{
		"index.js": fmt.Sprintf("const GEN = %d;\nexport default { async fetch(req) { %s } }", gen, body),
	})
}

// soakRequest sends one request of the kind and checks the answer.
func soakRequest(hc *http.Client, addr, name, kind string) error {
	path := "/" + name + "/x"
	wantStatus, wantPrefix := 200, ""
	switch kind {
	case "hello":
		wantPrefix = "hello "
	case "json":
		wantPrefix = `{"path":"/` + name + `/x"`
	case "slow":
		wantPrefix = "slow "
	case "throw":
		if rand.IntN(4) == 0 {
			path += "?boom"
			wantStatus, wantPrefix = 500, "500 Internal Server Error: "
		} else {
			wantPrefix = "fine "
		}
	}
	resp, err := hc.Get("http://" + addr + path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading: %w", path, err)
	}
	if resp.StatusCode != wantStatus || !strings.HasPrefix(string(b), wantPrefix) {
		return fmt.Errorf("%s: %d %q; want %d %q…", path, resp.StatusCode, b, wantStatus, wantPrefix)
	}
	return nil
}
