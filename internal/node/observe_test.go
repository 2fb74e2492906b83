package node_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/usage"
)

// scrape reads the node's /metrics over HTTP (no token: like /healthz)
// and parses it with Prometheus' own text parser.
func scrape(t *testing.T, n *node.Node) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(n.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the series of family name whose labels include
// want (a counter's or gauge's value, a histogram's count); -1 when no
// series matches, the sum when several do.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	sum, found := 0.0, false
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	if !found {
		return -1
	}
	return sum
}

func TestMetricsMove(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "hello", `"/hello"`, `"Hello!"`))
	mustDeploy(t, c, writeService(t, "name = \"thrower\"\nmain = \"index.js\"\nroutes = [\"/throw\"]\n", map[string]string{
		"index.js": "export default { fetch(req) { throw new Error('no') } }",
	}))
	for range 7 {
		if r := get(t, n, "", "/hello"); r.status != 200 {
			t.Fatalf("hello: %+v", r)
		}
	}
	for range 3 {
		if r := get(t, n, "", "/throw"); r.status != 500 {
			t.Fatalf("throw: %+v", r)
		}
	}
	if _, err := c.Invoke(context.Background(), "hello", "GET", "/hello", nil, nil); err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"service": "hello", "trigger": "http", "outcome": "ok"}
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"wisp_invocations_total", ok, 7},
		{"wisp_invocations_total", map[string]string{"service": "hello", "trigger": "invoke", "outcome": "ok"}, 1},
		{"wisp_invocations_total", map[string]string{"service": "thrower", "trigger": "http", "outcome": "error"}, 3},
		{"wisp_invocation_duration_seconds", map[string]string{"service": "hello", "trigger": "http"}, 7},
		{"wisp_http_responses_total", map[string]string{"service": "hello", "code": "2xx"}, 8},
		{"wisp_http_responses_total", map[string]string{"service": "thrower", "code": "5xx"}, 3},
		{"wisp_http_response_bytes_total", map[string]string{"service": "hello"}, 8 * float64(len("Hello!"))},
		{"wisp_egress_bytes_total", map[string]string{"service": "hello"}, 8 * float64(len("Hello!"))},
		{"wisp_instances_prewarmed_total", map[string]string{"service": "hello"}, 1},
		{"wisp_instance_limit", map[string]string{"service": "hello", "limit": "max"}, manifest.DefaultMaxInstances},
	}
	var fams map[string]*dto.MetricFamily
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		fams = scrape(t, n)
		for _, w := range want {
			if got := value(fams, w.name, w.labels); got != w.value {
				return fmt.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
			}
		}
		return nil
	})
	for _, name := range []string{"wisp_instances", "wisp_cold_starts_total", "wisp_budget_instances", "wisp_invocation_cpu_seconds_total",
		"wisp_instance_busy_seconds_total", "wisp_trace_spans_kept", "wisp_log_entries_dropped_total", "go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if v := value(fams, "wisp_instances", map[string]string{"service": "hello", "state": "idle"}); v < 1 {
		t.Errorf("hello has %v idle instances", v)
	}
	if v := value(fams, "wisp_instance_busy_seconds_total", map[string]string{"service": "hello"}); v <= 0 {
		t.Errorf("hello busy seconds %v", v)
	}

	// They move as requests are made.
	for range 5 {
		get(t, n, "", "/hello")
	}
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got := value(scrape(t, n), "wisp_invocations_total", ok); got != 12 {
			return fmt.Errorf("after 5 more: %v", got)
		}
		return nil
	})
}

// TestTraceparentIn: a request that arrives with a W3C traceparent is
// part of that trace; its span is found by trace id and by request id,
// and its log entries carry the trace id.
func TestTraceparentIn(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "hello", `"/hello"`, `"Hello!"`))
	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", "http://"+n.GatewayAddr()+"/hello", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	r := do(t, req)
	id := r.header.Get("X-Wisp-Request-Id")
	var tr *api.Trace
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var err error
		tr, err = c.Trace(context.Background(), id)
		return err
	})
	if tr.TraceID != traceID || len(tr.Spans) != 1 {
		t.Fatalf("trace by request id: %+v", tr)
	}
	s := tr.Spans[0]
	if s.ParentID != parent || s.Service != "hello" || s.Name != "GET" || s.Kind != "server" {
		t.Fatalf("span: %+v", s)
	}
	for k, v := range map[string]any{"wisp.trigger": "http", "wisp.request_id": id, "url.path": "/hello", "http.response.status_code": float64(200), "wisp.outcome": nil} {
		if s.Attributes[k] != v {
			t.Errorf("attribute %s = %v (%T), want %v", k, s.Attributes[k], s.Attributes[k], v)
		}
	}
	if cpu, _ := s.Attributes["wisp.cpu_ns"].(float64); node.CPUMeasured() && cpu <= 0 {
		t.Errorf("no CPU time measured: %v", s.Attributes)
	}
	if byID, err := c.Trace(context.Background(), traceID); err != nil || len(byID.Spans) != 1 {
		t.Fatalf("trace by trace id: %+v %v", byID, err)
	}
	if _, err := c.Trace(context.Background(), "0123456789abcdef0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "no trace") {
		t.Fatalf("unknown trace: %v", err)
	}
	list, err := c.Traces(context.Background(), "hello", 5)
	if err != nil || len(list) == 0 || list[0].TraceID != traceID {
		t.Fatalf("traces: %+v %v", list, err)
	}
}

// TestUsageAddsUp: the usage the API reports is the sum of what each
// invocation used, as its span recorded it; GB-seconds are memory_mb
// times wall time; a restart keeps it.
func TestUsageAddsUp(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"busy\"\nmain = \"index.js\"\nroutes = [\"/busy\"]\n[limits]\nmemory_mb = 256\n", map[string]string{
		"index.js": "export default { fetch(req) { let x = 0; for (let i = 0; i < 20000; i++) x += i; return new Response('x'.repeat(100) + x) } }",
	}))
	const calls = 12
	var ids []string
	for range calls {
		r := get(t, n, "", "/busy")
		if r.status != 200 {
			t.Fatalf("%+v", r)
		}
		ids = append(ids, r.header.Get("X-Wisp-Request-Id"))
	}
	var wall, cpu float64
	var egress int
	for _, id := range ids {
		var tr *api.Trace
		poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
			var err error
			tr, err = c.Trace(context.Background(), id)
			return err
		})
		a := tr.Spans[0].Attributes
		wall += a["wisp.wall_ns"].(float64)
		cpu += a["wisp.cpu_ns"].(float64)
		egress += 100 + len("199990000")
	}
	var rep *api.UsageReport
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var err error
		rep, err = c.Usage(context.Background(), "", "busy")
		if err != nil {
			return err
		}
		if len(rep.Rows) != 1 || rep.Rows[0].Invocations != calls {
			return fmt.Errorf("rows %+v", rep.Rows)
		}
		return nil
	})
	got := rep.Rows[0]
	if float64(got.WallNS) != wall || float64(got.CPUNS) != cpu || got.EgressBytes != uint64(egress) {
		t.Fatalf("usage %+v; the invocations' spans add up to wall %v cpu %v egress %d", got, wall, cpu, egress)
	}
	if got.MemoryMBNS != 256*got.WallNS || math.Abs(got.GBSeconds-0.25*got.WallSeconds) > 1e-9 {
		t.Fatalf("memory: %+v", got)
	}
	if node.CPUMeasured() && (got.CPUNS == 0 || got.CPUNS > got.WallNS) {
		t.Fatalf("cpu %d of wall %d", got.CPUNS, got.WallNS)
	}
	if rep.Total.Totals != got.Totals {
		t.Fatalf("total %+v != the one row %+v", rep.Total, got)
	}

	// A restart keeps it.
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, dir)
	rep2, err := adminClient(n2).Usage(context.Background(), "1d", "")
	if err != nil {
		t.Fatal(err)
	}
	var after usage.Totals
	for _, r := range rep2.Rows {
		if r.Service == "busy" {
			after.Add(r.Totals)
		}
	}
	if after != got.Totals {
		t.Fatalf("after a restart: %+v, before %+v", after, got.Totals)
	}
}

// TestBindingSpans: real JS workers: cart writes KV and calls inventory
// through a service binding, inventory reads its own KV. One trace, each
// binding call a client span under the invocation that made it, the
// callee's invocation under the call, which carries a traceparent; the
// calls are counted.
func TestBindingSpans(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"inventory\"\nmain = \"index.js\"\n[[kv_namespaces]]\nbinding = \"STOCK\"\n", map[string]string{
		"index.js": "export default { async fetch(req, env) { const n = await env.STOCK.get('bike'); return new Response('stock ' + n + (req.headers.get('traceparent') ? ' traced' : ' untraced')) } }",
	}))
	mustDeploy(t, c, writeService(t, "name = \"cart\"\nmain = \"index.js\"\nroutes = [\"/cart\"]\n[[kv_namespaces]]\nbinding = \"CARTS\"\n[[services]]\nbinding = \"INVENTORY\"\nservice = \"inventory\"\n", map[string]string{
		"index.js": `export default { async fetch(req, env) {
			await env.CARTS.put('ann', 'bike');
			const r = await env.INVENTORY.fetch('http://inventory/api/inventory/bike');
			return new Response('cart: ' + await r.text());
		} }`,
	}))
	r := get(t, n, "", "/cart")
	if r.status != 200 || r.body != "cart: stock null traced" {
		t.Fatalf("%+v", r)
	}
	var tr *api.Trace
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var err error
		if tr, err = adminClient(n).Trace(context.Background(), r.header.Get("X-Wisp-Request-Id")); err != nil {
			return err
		}
		if len(tr.Spans) < 5 {
			return fmt.Errorf("%d spans", len(tr.Spans))
		}
		return nil
	})
	byID := map[string]api.Span{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	var edges []string
	for _, s := range tr.Spans {
		p := "(root)"
		if ps, ok := byID[s.ParentID]; ok {
			p = ps.Service + "/" + ps.Name
		}
		edges = append(edges, p+" → "+s.Service+"/"+s.Name+" ["+s.Kind+"]")
	}
	got := strings.Join(edges, "\n")
	for _, w := range []string{
		"(root) → cart/GET [server]",
		"cart/GET → cart/KV CARTS put [client]",
		"cart/GET → cart/call inventory fetch [client]",
		"cart/call inventory fetch → inventory/GET [server]",
		"inventory/GET → inventory/KV STOCK get [client]",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		fams := scrape(t, n)
		for _, w := range []struct {
			labels map[string]string
			v      float64
		}{
			{map[string]string{"service": "cart", "type": "kv", "operation": "put", "outcome": "ok"}, 1},
			{map[string]string{"service": "cart", "type": "service", "operation": "fetch", "outcome": "ok"}, 1},
			{map[string]string{"service": "inventory", "type": "kv", "operation": "get", "outcome": "ok"}, 1},
		} {
			if v := value(fams, "wisp_binding_operations_total", w.labels); v != w.v {
				return fmt.Errorf("%v: %v", w.labels, v)
			}
		}
		if v := value(fams, "wisp_invocations_total", map[string]string{"service": "inventory", "trigger": "service", "outcome": "ok"}); v != 1 {
			return fmt.Errorf("inventory's service-triggered invocations: %v", v)
		}
		return nil
	})
}

// TestUncaughtErrorLogged: an uncaught error is logged at level error
// with its stack and the request's trace id, and the request's span
// fails.
func TestUncaughtErrorLogged(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"thrower\"\nmain = \"index.js\"\nroutes = [\"/throw\"]\n", map[string]string{
		"index.js": "function deep() { throw new Error('failing on purpose') }\nexport default { fetch(req) { deep(); return new Response('no') } }",
	}))
	r := get(t, n, "", "/throw")
	if r.status != 500 {
		t.Fatalf("%+v", r)
	}
	id := r.header.Get("X-Wisp-Request-Id")
	var tr *api.Trace
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var err error
		tr, err = c.Trace(context.Background(), id)
		return err
	})
	if s := tr.Spans[0]; !s.Error || s.Status != "error" || s.Attributes["wisp.outcome"] != "error" {
		t.Fatalf("span of the failed request: %+v", s)
	}
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var found bool
		err := n.Logs(context.Background(), logs.Query{Service: "thrower", Since: time.Now().Add(-time.Minute), MinLevel: logs.Error}, func(e logs.Entry) error {
			if e.RequestID == id && e.TraceID == tr.TraceID && strings.Contains(e.Message, "failing on purpose") && strings.Contains(e.Message, "at deep (") {
				found = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no error entry with the stack and trace id for request %s", id)
		}
		return nil
	})
}

// TestWaitUntilCounts: work a worker leaves to ctx.waitUntil keeps its
// instance, and that time is the invocation's: its span ends, and its
// wall time is counted, once the work is done, after the response.
func TestWaitUntilCounts(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"later\"\nmain = \"index.js\"\nroutes = [\"/later\"]\n", map[string]string{
		"index.js": "export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise(r => setTimeout(r, 80))); return new Response('now') } }",
	}))
	start := time.Now()
	r := get(t, n, "", "/later")
	answered := time.Since(start)
	if r.status != 200 || r.body != "now" {
		t.Fatalf("%+v", r)
	}
	var tr *api.Trace
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var err error
		tr, err = c.Trace(context.Background(), r.header.Get("X-Wisp-Request-Id"))
		return err
	})
	s := tr.Spans[0]
	wall := time.Duration(s.Attributes["wisp.wall_ns"].(float64))
	if d := s.End.Sub(s.Start); d < 80*time.Millisecond || wall < 80*time.Millisecond {
		t.Fatalf("span %v, wall %v: the waitUntil work (80ms) is not counted", d, wall)
	}
	t.Logf("answered after %v; the invocation held its instance %v", answered, wall)
}

// TestShopCheckoutTrace: the example shop's checkout, through cart,
// inventory and orders (real workers, service bindings, KV), is one
// trace with each service's invocation under the call that made it.
// TestShopCheckoutTrace: a checkout of the example shop goes cart →
// inventory → orders → (orders queue) → payments → inventory →
// (fulfilment queue) → reporting, and all of it is one trace with each
// span under the one that caused it.
func TestShopCheckoutTrace(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	if _, err := c.PutSecret(context.Background(), "payments", "PAYMENT_API_KEY", "sk_test_trace"); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"inventory", "orders", "cart", "payments", "reporting"} {
		mustDeploy(t, c, filepath.Join("..", "..", "examples", "shop", svc))
	}
	post := func(path, body string) response {
		req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+path, strings.NewReader(body))
		return do(t, req)
	}
	if r := post("/api/cart/ann/items", `{"sku":"kayak-single","days":2}`); r.status != 200 {
		t.Fatalf("add: %+v", r)
	}
	r := post("/api/cart/ann/checkout", "")
	if r.status != 201 || !strings.Contains(r.body, `"status":"accepted"`) {
		t.Fatalf("checkout: %+v", r)
	}
	var tr *api.Trace
	poll.CheckFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		var err error
		if tr, err = c.Trace(context.Background(), r.header.Get("X-Wisp-Request-Id")); err != nil {
			return err
		}
		for _, s := range tr.Spans {
			if s.Service == "reporting" && s.Kind == "consumer" {
				return nil
			}
		}
		return fmt.Errorf("%d spans, none of reporting's consumer yet", len(tr.Spans))
	})
	byID := map[string]api.Span{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	var edges []string
	for _, s := range tr.Spans {
		p := "(root)"
		if ps, ok := byID[s.ParentID]; ok {
			p = ps.Service + "/" + ps.Name
		} else if s.ParentID != "" {
			t.Errorf("span %s/%s has a parent %s outside the trace", s.Service, s.Name, s.ParentID)
		}
		edges = append(edges, p+" → "+s.Service+"/"+s.Name+" ["+s.Kind+"]")
	}
	got := strings.Join(edges, "\n")
	for _, w := range []string{
		"(root) → cart/POST [server]",
		"cart/POST → cart/KV CARTS get",
		"cart/POST → cart/call inventory fetch",
		"cart/call inventory fetch → inventory/GET",
		"inventory/GET → inventory/KV STOCK get",
		"cart/POST → cart/call orders fetch",
		"cart/call orders fetch → orders/POST",
		"orders/POST → orders/queue orders send [producer]",
		"orders/queue orders send → payments/queue orders [consumer]",
		"payments/queue orders → payments/call inventory fetch",
		"payments/queue orders → payments/queue fulfilment send [producer]",
		"payments/queue fulfilment send → reporting/queue fulfilment [consumer]",
		"reporting/queue fulfilment → reporting/KV REPORTS put",
		"cart/POST → cart/KV CARTS delete",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

// TestObserveBadInput: bad queries get a clear 400 naming what is wrong.
func TestObserveBadInput(t *testing.T) {
	n := startNode(t, t.TempDir())
	for _, tc := range []struct {
		path, want string
	}{
		{"/v1/usage?since=yesterday", "neither a number of days"},
		{"/v1/usage?since=-3d", "a number of days is written like 7d"},
		{"/v1/usage?service=Not_A_Service", "not a valid service name"},
		{"/v1/traces?limit=0", "not a number from 1 to 1000"},
		{"/v1/traces?limit=many", "not a number from 1 to 1000"},
		{"/v1/traces/xyz", "neither a trace id"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req, _ := http.NewRequest("GET", n.AdminURL()+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+n.Token())
			r := do(t, req)
			if r.status != 400 || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, `"bad_request"`) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	// /metrics needs no token; the /v1 endpoints do.
	if r := get(t, n, "", "/metrics"); r.status != 404 {
		t.Fatalf("/metrics on the gateway: %d", r.status)
	}
	resp, err := http.Get(n.AdminURL() + "/v1/usage")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("/v1/usage without a token: %d", resp.StatusCode)
	}
}

// TestAsyncInvocationTrace: a request answered 202 and run later is one
// trace: the gateway's span (202), then each attempt's run (a consumer
// span under it, async in the metrics), a failed one and the retry.
func TestAsyncInvocationTrace(t *testing.T) {
	n := startEventNode(t, nil, node.Config{})
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"reports\"\nmain = \"index.js\"\nroutes = [\"/reports/*\"]\n", map[string]string{"index.js": echoWorker}))
	req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+"/reports/daily?fail=1", strings.NewReader("payload"))
	req.Header.Set("Prefer", "respond-async")
	res := do(t, req)
	if res.status != 202 {
		t.Fatalf("async request: %+v", res)
	}
	var tr *api.Trace
	poll.CheckFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		var err error
		if tr, err = c.Trace(context.Background(), res.header.Get("X-Wisp-Request-Id")); err != nil {
			return err
		}
		if len(tr.Spans) < 3 {
			return fmt.Errorf("%d spans, want the gateway's and two attempts", len(tr.Spans))
		}
		return nil
	})
	var root api.Span
	for _, s := range tr.Spans {
		if s.ParentID == "" {
			root = s
		}
	}
	if root.Kind != "server" || root.Name != "POST" || fmt.Sprint(root.Attributes["http.response.status_code"]) != "202" {
		t.Fatalf("root span %+v", root)
	}
	runs := 0
	for _, s := range tr.Spans {
		if s.ParentID == root.SpanID && s.Kind == "consumer" && s.Service == "reports" && s.Name == "POST" {
			runs++
		}
	}
	if runs != 2 {
		t.Fatalf("want 2 attempts under the accepting span, got %d in %+v", runs, tr.Spans)
	}
	fams := scrape(t, n)
	if v := value(fams, "wisp_invocations_total", map[string]string{"service": "reports", "trigger": "async"}); v != 2 {
		t.Fatalf("async invocations counted %v, want 2", v)
	}
	if v := value(fams, "wisp_invocations_total", map[string]string{"service": "reports", "trigger": "http", "outcome": "ok"}); v != 1 {
		t.Fatalf("accepted http invocation counted %v, want 1 ok", v)
	}
}
