package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/gateway"
)

// visit is one request of the density section, as the client saw it and
// as the node recorded it.
type visit struct {
	url       string
	start     time.Time     // when the client sent it
	client    time.Duration // what the client measured, socket included
	requestID string        // X-Wisp-Request-Id
	server    time.Duration // the invocation's span on the node (0: not found)
}

// visits is the density section's requests to its services.
type visits struct {
	cold, warm            []visit // each service's first and second request
	start                 time.Time
	loadBefore, loadAfter string
	collections           int   // by the node while the requests ran
	gcErr                 error // reading them
	missing               int   // requests without a span on the node
	spanErr               error // the first failure to read one
}

// visitAll requests each URL twice in a row on one connection (the first
// finds the service at zero, the second its instance warm), then reads
// the node's span of every request.
func visitAll(n *wispNode, urls []string) (*visits, error) {
	pairs := make([]string, 0, 2*len(urls))
	for _, u := range urls {
		pairs = append(pairs, u, u)
	}
	r := &visits{loadBefore: loadAverage()}
	gcBefore, gcErr := n.gcCount()
	r.start = time.Now()
	vs, err := timeVisits(pairs)
	if err != nil {
		return nil, err
	}
	r.loadAfter = loadAverage()
	gcAfter, err := n.gcCount()
	r.collections, r.gcErr = gcAfter-gcBefore, cmp.Or(gcErr, err)
	r.missing, r.spanErr = addServerTimes(n.client, vs)
	for i := 0; i < len(vs); i += 2 {
		r.cold = append(r.cold, vs[i])
		r.warm = append(r.warm, vs[i+1])
	}
	return r, nil
}

// printNodeSide prints the node's own times of the requests and the
// slowest requests.
func (r *visits) printNodeSide(n *wispNode) {
	fmt.Printf("\n%-36s %9s %9s %9s %9s\n", "the same requests, on the node", "p50", "p99", "max", "n")
	for _, row := range []struct {
		name string
		lat  []time.Duration
	}{{"wisp JS, from zero (cold start)", serverTimes(r.cold)}, {"wisp JS, second request (warm)", serverTimes(r.warm)}} {
		if len(row.lat) == 0 {
			continue
		}
		fmt.Printf("%-36s %9s %9s %9s %9d\n", row.name, pct(row.lat, 50).Round(time.Microsecond), pct(row.lat, 99).Round(time.Microsecond),
			row.lat[len(row.lat)-1].Round(time.Microsecond), len(row.lat))
	}
	if r.missing > 0 {
		fmt.Printf("(%d requests had no span on the node; first: %v)\n", r.missing, r.spanErr)
	}
	fmt.Printf("\n(the first request was sent %s after the node was started)\n", r.start.Sub(n.execAt).Round(time.Millisecond))
	printSlowest("first requests", r.cold, r.start, 8)
	printSlowest("second requests", r.warm, r.start, 5)
}

// timeEach requests each URL once, in order, on one keep-alive
// connection, and returns the latencies sorted.
func timeEach(urls []string) ([]time.Duration, error) {
	vs, err := timeVisits(urls)
	return clientTimes(vs), err
}

// timeVisits requests each URL once, in order, on one keep-alive
// connection (the URLs share one host), keeping the request ids the node
// answered with.
func timeVisits(urls []string) ([]visit, error) {
	return timeVisitsKeeping(urls, strings.ToLower(gateway.RequestIDHeader)+":")
}

// timeVisitsKeeping is timeVisits keeping the header named by keep
// (lower case, with the colon) in each visit's requestID. Every request
// is encoded before the first is sent, and this process does not collect
// garbage while it times them: a client that stops to collect (its heap
// is a few MB, so it would every few hundred requests) adds its own pause
// to the answer it is timing.
func timeVisitsKeeping(urls []string, keep string) ([]visit, error) {
	out := make([]visit, 0, len(urls))
	reqs := make([][]byte, len(urls))
	var c *conn
	for i, u := range urls {
		next, err := newConn(u)
		if err != nil {
			return nil, err
		}
		if c == nil {
			c = next
			c.keep = []byte(keep)
		}
		if next.host != c.host {
			return nil, fmt.Errorf("%s: not on %s like the URLs before it", u, c.host)
		}
		reqs[i] = next.req
	}
	if c == nil {
		return out, nil
	}
	defer c.close()
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for i, u := range urls {
		c.req = reqs[i]
		deadline := time.Now().Add(30 * time.Second)
		t0 := time.Now()
		err := c.get(deadline)
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		out = append(out, visit{url: u, start: t0, client: d, requestID: string(c.kept)})
	}
	return out, nil
}

// addServerTimes reads, for each visit, the duration of its invocation's
// span on the node (from the gateway taking the request to the response
// written): the node's own view, without the client or the socket.
func addServerTimes(c *client.Client, vs []visit) (missing int, err error) {
	for i := range vs {
		if vs[i].requestID == "" {
			missing++
			continue
		}
		t, terr := c.Trace(context.Background(), vs[i].requestID)
		if terr != nil {
			if err == nil {
				err = fmt.Errorf("trace of request %s: %w", vs[i].requestID, terr)
			}
			missing++
			continue
		}
		for _, s := range t.Spans {
			if s.ParentID == "" {
				vs[i].server = s.End.Sub(s.Start)
				break
			}
		}
		if vs[i].server == 0 {
			missing++
		}
	}
	return missing, err
}

func clientTimes(vs []visit) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = v.client
	}
	slices.Sort(out)
	return out
}

func serverTimes(vs []visit) []time.Duration {
	out := make([]time.Duration, 0, len(vs))
	for _, v := range vs {
		if v.server > 0 {
			out = append(out, v.server)
		}
	}
	slices.Sort(out)
	return out
}

// printSlowest lists the n slowest visits as the client saw them, with
// their time since the first request and the node's own duration.
func printSlowest(title string, vs []visit, t0 time.Time, n int) {
	s := slices.Clone(vs)
	sort.Slice(s, func(i, j int) bool { return s[i].client > s[j].client })
	fmt.Printf("\n%s (slowest %d, client-measured)\n", title, n)
	fmt.Printf("%12s %15s %10s %10s  %s\n", "at", "UTC", "client", "server", "url")
	for _, v := range s[:min(n, len(s))] {
		fmt.Printf("%12s %15s %10s %10s  %s\n", v.start.Sub(t0).Round(time.Microsecond), v.start.UTC().Format("15:04:05.000000"),
			v.client.Round(time.Microsecond), v.server.Round(time.Microsecond), v.url)
	}
}

// loadAverage is the machine's 1-minute load average (Linux), to print
// with each run: the client, the node and other users share the cores.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// gcCount is how many collections the node has completed, from its
// /metrics (Go's collector: go_gc_duration_seconds_count).
func (n *wispNode) gcCount() (int, error) {
	resp, err := http.Get(n.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_gc_duration_seconds_count "); ok {
			var c int
			_, err := fmt.Sscan(v, &c)
			return c, err
		}
	}
	return 0, fmt.Errorf("no go_gc_duration_seconds_count in the node's /metrics")
}
