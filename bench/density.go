package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wisp-run/wisp/internal/api"
)

// density deploys o.services hello-world services on one node, lets them
// scale to zero, and measures the node's memory, its start-up time with
// all of them, and each service's first request from zero.
func density(e *env, o options) error {
	raw, rawAddr, err := startServer(e.self, "-serve-raw", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stopServer(raw)
	data := filepath.Join(e.work, "data-density")
	flags := []string{"--keep-alive", o.keepAlive.String(), "--max-instances", strconv.Itoa(o.services + 100)}
	n, err := e.startWisp(data, flags...)
	if err != nil {
		return err
	}
	emptyStart := n.started
	rssEmpty, err := n.rss()
	if err != nil {
		n.stop()
		return err
	}
	name := func(i int) string { return fmt.Sprintf("d%04d", i) }
	p, code, err := e.build(jsService(name(0), "/d0000", helloWorker, ""))
	if err != nil {
		n.stop()
		return err
	}
	_ = p
	t0 := time.Now()
	err = parallel(o.services, 4, func(i int) error {
		toml := fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [\"/%s\"]\n", name(i), name(i))
		_, err := n.client.Deploy(context.Background(), name(i), name(i)+"/wisp.toml", []byte(toml), code)
		return err
	})
	deployTook := time.Since(t0)
	if err != nil {
		n.stop()
		return fmt.Errorf("deploy: %w", err)
	}
	if err := waitScaledToZero(n, o.services); err != nil {
		n.stop()
		return err
	}
	rssDeployed, _ := n.rss()
	n.stop()
	// The growing-heap baseline runs while no node does.
	grow, err := walkGrowServer(e.self, o.services)
	if err != nil {
		return fmt.Errorf("the growing-heap raw baseline: %w", err)
	}

	n, err = e.startWisp(data, flags...)
	if err != nil {
		return fmt.Errorf("restart with %d services: %w", o.services, err)
	}
	defer n.stop()
	rssIdle, _ := n.rss()
	order := rand.Perm(o.services)
	urls := make([]string, len(order))
	for i, k := range order {
		urls[i] = "http://" + n.gateway + "/" + name(k)
	}
	r, err := visitAll(n, urls)
	if err != nil {
		return err
	}
	cold, warm := clientTimes(r.cold), clientTimes(r.warm)
	rawURLs := make([]string, len(urls))
	for i := range rawURLs {
		rawURLs[i] = "http://" + rawAddr + "/hello"
	}
	rawLat, err := timeEach(rawURLs)
	if err != nil {
		return err
	}
	rssServed, _ := n.rss()
	infos, err := n.client.Services(context.Background())
	if err != nil {
		return err
	}
	var colds uint64
	for _, s := range infos {
		if s.Pool != nil {
			colds += s.Pool.ColdStarts
		}
	}

	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	fmt.Printf("\n## density: %d JS hello services on one node, keep-alive %s\n", o.services, o.keepAlive)
	fmt.Printf("%-52s %s\n", "deploy all (4 clients in parallel)", deployTook.Round(time.Millisecond))
	fmt.Printf("%-52s %s\n", "node RSS, no service", mb(rssEmpty))
	fmt.Printf("%-52s %s\n", "node RSS, all deployed, scaled to zero", mb(rssDeployed))
	fmt.Printf("%-52s %s\n", "node RSS after restart, all scaled to zero", mb(rssIdle))
	fmt.Printf("%-52s %s\n", "memory per idle service (restart − empty) / N", fmt.Sprintf("%.1f KB", float64(rssIdle-rssEmpty)/float64(o.services)/1024))
	fmt.Printf("%-52s %s\n", "node RSS after each answered once", mb(rssServed))
	fmt.Printf("%-52s %s (empty node: %s)\n", "node start-up with all services", n.started.Round(time.Millisecond), emptyStart.Round(time.Millisecond))
	fmt.Printf("%-52s %d of %d requests\n", "cold starts counted by the node", colds, o.services)
	fmt.Printf("%-52s %s before, %s after\n", "load average (1 min) around the requests", r.loadBefore, r.loadAfter)
	if r.gcErr == nil {
		fmt.Printf("%-52s %d\n", "collections by the node during the requests", r.collections)
	}
	fmt.Printf("\n%-36s %9s %9s %9s %9s\n", "first request of each service", "p50", "p99", "max", "vs raw p50")
	for _, r := range []struct {
		name string
		lat  []time.Duration
	}{{"raw net/http (new request)", rawLat}, {"wisp JS, from zero (cold start)", cold}, {"wisp JS, second request (warm)", warm}} {
		fmt.Printf("%-36s %9s %9s %9s %9s\n", r.name, pct(r.lat, 50).Round(time.Microsecond), pct(r.lat, 99).Round(time.Microsecond),
			r.lat[len(r.lat)-1].Round(time.Microsecond), fmt.Sprintf("%.1f×", float64(pct(r.lat, 50))/float64(pct(rawLat, 50))))
	}
	r.printNodeSide(n)
	fmt.Printf("\n%-36s %9s %9s %9s\n", "raw net/http, heap grown as a node's", "p50", "p99", "max")
	for _, row := range []struct {
		name string
		lat  []time.Duration
	}{{fmt.Sprintf("keeps %d KB (client)", growKB), grow.first}, {"  the same, its handler", grow.handler}, {"then /hello (client)", grow.second}} {
		fmt.Printf("%-36s %9s %9s %9s\n", row.name, pct(row.lat, 50).Round(time.Microsecond), pct(row.lat, 99).Round(time.Microsecond), row.lat[len(row.lat)-1].Round(time.Microsecond))
	}
	fmt.Printf("(a raw Go server starting with a %d MB live heap, its collector paced as a node's, keeping %d KB per first request:\n what the Go runtime and this machine cost any Go server on this walk; bench/rawgrow.go)\n", growBaseMB, growKB)
	return nil
}

// waitScaledToZero polls the admin API until no service has an instance.
func waitScaledToZero(n *wispNode, want int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		infos, err := n.client.Services(context.Background())
		if err != nil {
			return err
		}
		alive := 0
		for _, s := range infos {
			alive += instances(s.Pool)
		}
		if len(infos) == want && alive == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d services, %d instances still alive after 2 minutes", len(infos), alive)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func instances(p *api.PoolInfo) int {
	if p == nil {
		return 0
	}
	return p.Instances
}
