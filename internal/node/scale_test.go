package node_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
)

// startScaled runs a node with scale settings.
func startScaled(t testing.TB, sc node.Scale) *node.Node {
	t.Helper()
	n := node.New(node.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second, Scale: sc})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

// slowWorker answers body after waiting the query's ms (default 0).
func slowWorker(t testing.TB, name, route, body, limits string) string {
	return writeService(t, fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [%q]\n[limits]\n%s\n", name, route, limits), map[string]string{
		"index.js": `export default { async fetch(req) {
  const ms = Number(new URL(req.url).searchParams.get('ms') || 0);
  if (ms > 0) await new Promise(r => setTimeout(r, ms));
  return new Response(` + body + `);
} }`,
	})
}

func poolOf(t testing.TB, n *node.Node, name string) *api.PoolInfo {
	t.Helper()
	info, err := adminClient(n).Service(context.Background(), name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	if info.Pool == nil {
		t.Fatalf("service %s: no pool on this node", name)
	}
	return info.Pool
}

func waitPool(t testing.TB, n *node.Node, name string, ok func(*api.PoolInfo) error) {
	t.Helper()
	poll.CheckFor(t, 15*time.Second, 5*time.Millisecond, func() error {
		return ok(poolOf(t, n, name))
	})
}

// getAsync runs a GET on a goroutine.
func getAsync(n *node.Node, path string) <-chan response {
	c := make(chan response, 1)
	go func() {
		resp, err := http.Get("http://" + n.GatewayAddr() + path)
		if err != nil {
			c <- response{status: -1, body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		c <- response{resp.StatusCode, resp.Header, string(b)}
	}()
	return c
}

func recvResp(t *testing.T, c <-chan response, what string) response {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer within 20s", what)
	}
	panic("unreachable")
}

// TestDeployIsPrewarmed: the first request after a deploy (and after a
// redeploy) finds a warm instance: no cold start.
func TestDeployIsPrewarmed(t *testing.T) {
	n := startScaled(t, node.Scale{})
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "hello", `"/hello"`, `'v1'`))
	expectBody(t, get(t, n, "", "/hello"), 200, "v1")
	if p := poolOf(t, n, "hello"); p.ColdStarts != 0 || p.Prewarmed != 1 || p.Invocations != 1 {
		t.Fatalf("after deploy and one request: %+v; want no cold start", p)
	}
	mustDeploy(t, c, worker(t, "hello", `"/hello"`, `'v2'`))
	expectBody(t, get(t, n, "", "/hello"), 200, "v2")
	if p := poolOf(t, n, "hello"); p.ColdStarts != 0 || p.Invocations != 1 {
		t.Fatalf("after redeploy and one request: %+v; want no cold start", p)
	}
	// wisp ls shows the column.
	list, err := c.Services(context.Background())
	if err != nil || len(list) != 1 || list[0].Pool == nil || list[0].Pool.Instances != 1 {
		t.Fatalf("Services = %+v, %v", list, err)
	}
}

// TestScaleToZero: idle instances stop after the keep-alive and the next
// request is still served (with one cold start).
func TestScaleToZero(t *testing.T) {
	n := startScaled(t, node.Scale{KeepAlive: 100 * time.Millisecond})
	mustDeploy(t, adminClient(n), worker(t, "hello", `"/hello"`, `'hi'`))
	expectBody(t, get(t, n, "", "/hello"), 200, "hi")
	waitPool(t, n, "hello", func(p *api.PoolInfo) error {
		if p.Instances != 0 || p.Expired == 0 {
			return fmt.Errorf("pool %+v; want scaled to zero", p)
		}
		return nil
	})
	expectBody(t, get(t, n, "", "/hello"), 200, "hi")
	if p := poolOf(t, n, "hello"); p.ColdStarts != 1 {
		t.Fatalf("pool %+v; want one cold start from zero", p)
	}
}

// TestKeepAlivePerService: limits.keep_alive_ms overrides the node's.
func TestKeepAlivePerService(t *testing.T) {
	n := startScaled(t, node.Scale{KeepAlive: time.Hour})
	c := adminClient(n)
	mustDeploy(t, c, slowWorker(t, "quick", "/quick", "'q'", "keep_alive_ms = 50"))
	mustDeploy(t, c, worker(t, "lasting", `"/lasting"`, `'l'`))
	expectBody(t, get(t, n, "", "/quick"), 200, "q")
	expectBody(t, get(t, n, "", "/lasting"), 200, "l")
	waitPool(t, n, "quick", func(p *api.PoolInfo) error {
		if p.Instances != 0 {
			return fmt.Errorf("pool %+v; want scaled to zero after 50ms", p)
		}
		return nil
	})
	if p := poolOf(t, n, "lasting"); p.Instances != 1 {
		t.Fatalf("pool %+v; want its instance kept for the node's hour", p)
	}
}

// TestMinInstancesKeptWarm: min_instances survive the keep-alive.
func TestMinInstancesKeptWarm(t *testing.T) {
	n := startScaled(t, node.Scale{KeepAlive: 50 * time.Millisecond})
	mustDeploy(t, adminClient(n), slowWorker(t, "warm", "/warm", "'ok'", "min_instances = 2\nmax_instances = 4"))
	var calls []<-chan response
	for range 4 {
		calls = append(calls, getAsync(n, "/warm?ms=200"))
	}
	for _, c := range calls {
		expectBody(t, recvResp(t, c, "call"), 200, "ok")
	}
	waitPool(t, n, "warm", func(p *api.PoolInfo) error {
		if p.Instances != 2 || p.Idle != 2 {
			return fmt.Errorf("pool %+v; want back to the 2 min instances", p)
		}
		return nil
	})
}

// TestQueueBoundGives503: with every instance busy and the queue full, a
// request gets 503 with Retry-After and the request id, at once.
func TestQueueBoundGives503(t *testing.T) {
	n := startScaled(t, node.Scale{MaxQueue: 1})
	mustDeploy(t, adminClient(n), slowWorker(t, "slow", "/slow", "'done'", "max_instances = 1"))
	busy := getAsync(n, "/slow?ms=2000")
	waitPool(t, n, "slow", func(p *api.PoolInfo) error {
		if p.Busy != 1 {
			return fmt.Errorf("pool %+v; want one busy", p)
		}
		return nil
	})
	waiter := getAsync(n, "/slow")
	waitPool(t, n, "slow", func(p *api.PoolInfo) error {
		if p.Waiting != 1 {
			return fmt.Errorf("pool %+v; want one waiting", p)
		}
		return nil
	})
	r := get(t, n, "", "/slow")
	id := r.header.Get(gateway.RequestIDHeader)
	if r.status != 503 || r.header.Get("Retry-After") == "" || id == "" || !strings.Contains(r.body, id) {
		t.Fatalf("over the queue: %d %q (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
	}
	expectBody(t, recvResp(t, busy, "busy call"), 200, "done")
	expectBody(t, recvResp(t, waiter, "waiter"), 200, "done")
	if p := poolOf(t, n, "slow"); p.Instances > 1 || p.Rejected != 1 {
		t.Fatalf("pool %+v; want at most 1 instance, 1 rejected", p)
	}
}

// TestSaturatedServiceDoesNotStarveAnother: one service holding the whole
// node budget with a backlog does not stop another from being served.
func TestSaturatedServiceDoesNotStarveAnother(t *testing.T) {
	n := startScaled(t, node.Scale{MaxInstances: 3})
	c := adminClient(n)
	mustDeploy(t, c, slowWorker(t, "hot", "/hot", "'hot'", "max_instances = 20"))
	mustDeploy(t, c, worker(t, "other", `"/other"`, `'other'`))
	// The deploys prewarmed one instance each; the hot service takes all
	// three units once it is loaded (other's idle instance is evicted).
	var hot []<-chan response
	for range 12 {
		hot = append(hot, getAsync(n, "/hot?ms=300"))
	}
	waitPool(t, n, "hot", func(p *api.PoolInfo) error {
		if p.Busy != 3 {
			return fmt.Errorf("hot pool %+v; want the whole budget (3) busy", p)
		}
		return nil
	})
	start := time.Now()
	expectBody(t, get(t, n, "", "/other"), 200, "other")
	t.Logf("the other service answered in %s while the hot one was saturated", time.Since(start))
	for _, h := range hot {
		expectBody(t, recvResp(t, h, "hot call"), 200, "hot")
	}
	if s := n.Budget().Snapshot(); s.Instances > 3 {
		t.Fatalf("budget %+v; want at most 3", s)
	}
}

// TestDeployDrainsAndMovesWaiters: a deploy lets the old version finish
// its in-flight request and hands the callers waiting for it to the new
// version (no 503).
func TestDeployDrainsAndMovesWaiters(t *testing.T) {
	n := startScaled(t, node.Scale{})
	c := adminClient(n)
	mustDeploy(t, c, slowWorker(t, "svc", "/svc", "'v1'", "max_instances = 1"))
	inflight := getAsync(n, "/svc?ms=3000")
	waitPool(t, n, "svc", func(p *api.PoolInfo) error {
		if p.Busy != 1 {
			return fmt.Errorf("pool %+v; want one busy", p)
		}
		return nil
	})
	var waiters []<-chan response
	for range 3 {
		waiters = append(waiters, getAsync(n, "/svc"))
	}
	waitPool(t, n, "svc", func(p *api.PoolInfo) error {
		if p.Waiting != 3 {
			return fmt.Errorf("pool %+v; want 3 waiting", p)
		}
		return nil
	})
	mustDeploy(t, c, slowWorker(t, "svc", "/svc", "'v2'", "max_instances = 1"))
	for _, w := range waiters {
		expectBody(t, recvResp(t, w, "waiter"), 200, "v2")
	}
	expectBody(t, recvResp(t, inflight, "in-flight request"), 200, "v1")
}

// TestShutdownDrains: Shutdown stops accepting but lets a request in
// flight finish.
func TestShutdownDrains(t *testing.T) {
	n := node.New(node.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 10 * time.Second})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, adminClient(n), slowWorker(t, "slow", "/slow", "'finished'", ""))
	inflight := getAsync(n, "/slow?ms=500")
	waitPool(t, n, "slow", func(p *api.PoolInfo) error {
		if p.Busy != 1 {
			return fmt.Errorf("pool %+v; want one busy", p)
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- n.Shutdown(context.Background()) }()
	poll.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		conn, err := net.Dial("tcp", n.GatewayAddr())
		if err == nil {
			conn.Close()
			return fmt.Errorf("gateway still accepts connections")
		}
		return nil
	})
	expectBody(t, recvResp(t, inflight, "in-flight request"), 200, "finished")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}

// TestShutdownGraceInterrupts: a request outliving the grace period is
// interrupted rather than holding the node.
func TestShutdownGraceInterrupts(t *testing.T) {
	n := node.New(node.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 200 * time.Millisecond})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, adminClient(n), slowWorker(t, "slow", "/slow", "'finished'", ""))
	inflight := getAsync(n, "/slow?ms=20000")
	waitPool(t, n, "slow", func(p *api.PoolInfo) error {
		if p.Busy != 1 {
			return fmt.Errorf("pool %+v; want one busy", p)
		}
		return nil
	})
	start := time.Now()
	err := n.Shutdown(context.Background())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Shutdown took %s with a 200ms grace", took)
	}
	if err == nil {
		t.Fatal("Shutdown: no error although a request outlived the grace period")
	}
	if r := recvResp(t, inflight, "in-flight request"); r.status == 200 {
		t.Fatalf("request outliving the grace: %d %q; want it cut", r.status, r.body)
	}
}

// TestSlowClientHoldsNoInstance: a client trickling its body gets 408
// after the body timeout and never holds an instance meanwhile.
func TestSlowClientHoldsNoInstance(t *testing.T) {
	n := startScaled(t, node.Scale{BodyTimeout: 300 * time.Millisecond})
	mustDeploy(t, adminClient(n), writeService(t, "name = \"echo\"\nmain = \"index.js\"\nroutes = [\"/echo\"]\n[limits]\nmax_instances = 1\n", map[string]string{
		"index.js": `export default { async fetch(req) { return new Response(String((await req.text()).length)) } }`,
	}))
	conn, err := net.Dial("tcp", n.GatewayAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	// Meanwhile the one instance serves others.
	for range 3 {
		req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+"/echo", strings.NewReader("hello"))
		expectBody(t, do(t, req), 200, "5")
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow client: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive") {
		t.Fatalf("slow client: %d %q; want 408", resp.StatusCode, b)
	}
	if p := poolOf(t, n, "echo"); p.Invocations != 3 {
		t.Fatalf("pool %+v; want the slow request never to have reached an instance", p)
	}
}

// TestSlowReaderHoldsNoInstance: a client that never reads a big response
// frees the instance at the invocation's deadline.
func TestSlowReaderHoldsNoInstance(t *testing.T) {
	n := startScaled(t, node.Scale{})
	mustDeploy(t, adminClient(n), writeService(t, "name = \"big\"\nmain = \"index.js\"\nroutes = [\"/big\"]\n[limits]\nmax_instances = 1\ntimeout_ms = 500\n", map[string]string{
		"index.js": `const big = 'x'.repeat(32 << 20);
export default { fetch(req) { return new Response(new URL(req.url).searchParams.has('small') ? 'small' : big) } }`,
	}))
	conn, err := net.Dial("tcp", n.GatewayAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	waitPool(t, n, "big", func(p *api.PoolInfo) error {
		if p.Invocations != 1 {
			return fmt.Errorf("pool %+v; want the big request running", p)
		}
		return nil
	})
	// The write blocks on the client; the deadline frees the instance.
	waitPool(t, n, "big", func(p *api.PoolInfo) error {
		if p.Busy != 0 {
			return fmt.Errorf("pool %+v; want the instance freed", p)
		}
		return nil
	})
	expectBody(t, get(t, n, "", "/big?small"), 200, "small")
}

func TestHeaderLimits(t *testing.T) {
	n := startScaled(t, node.Scale{MaxHeaderCount: 20, MaxHeaderBytes: 4 << 10})
	mustDeploy(t, adminClient(n), worker(t, "hello", `"/hello"`, `'hi'`))
	tests := []struct {
		name   string
		header func(http.Header)
		status int
	}{
		{name: "few", header: func(h http.Header) { h.Set("X-A", "1") }, status: 200},
		{name: "too many", header: func(h http.Header) {
			for i := range 25 {
				h.Set(fmt.Sprintf("X-H%d", i), "v")
			}
		}, status: 431},
		{name: "too big", header: func(h http.Header) { h.Set("X-Big", strings.Repeat("b", 16<<10)) }, status: 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+n.GatewayAddr()+"/hello", nil)
			tc.header(req.Header)
			if r := do(t, req); r.status != tc.status {
				t.Fatalf("%d %q; want %d", r.status, r.body, tc.status)
			}
		})
	}
}

// TestRestartLoadsManyServicesScaledToZero: start-up replay loads every
// service (in parallel) without starting instances.
func TestRestartLoadsManyServicesScaledToZero(t *testing.T) {
	dir := t.TempDir()
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0"})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := adminClient(n)
	const count = 30
	var wg sync.WaitGroup
	for i := range count {
		dir := worker(t, fmt.Sprintf("s%02d", i), fmt.Sprintf(`"/s%02d"`, i), fmt.Sprintf(`'%d'`, i))
		wg.Go(func() { mustDeploy(t, c, dir) })
	}
	wg.Wait()
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, dir)
	if s := n.Budget().Snapshot(); s.Instances != 0 || s.Pools != count {
		t.Fatalf("after restart: budget %+v; want %d pools, no instance", s, count)
	}
	for i := range count {
		expectBody(t, get(t, n, "", fmt.Sprintf("/s%02d", i)), 200, fmt.Sprint(i))
	}
}
