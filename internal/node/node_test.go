package node_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

// startNode runs a real node (embedded JetStream in dir, random ports).
func startNode(t testing.TB, dir string) *node.Node {
	t.Helper()
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

func adminClient(n *node.Node) *client.Client { return client.New(n.AdminURL(), n.Token()) }

// writeService creates a service folder with a wisp.toml and files.
func writeService(t testing.TB, toml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deploy builds the service in dir and deploys it.
func deploy(t testing.TB, c *client.Client, dir string) (*api.DeployResult, error) {
	t.Helper()
	s, err := project.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	code, err := s.Build(context.Background(), io.Discard)
	if err != nil {
		t.Fatalf("build %s: %v", dir, err)
	}
	return c.Deploy(context.Background(), s.Manifest.Name, s.ManifestPath, s.Source, code)
}

func mustDeploy(t testing.TB, c *client.Client, dir string) *api.DeployResult {
	t.Helper()
	res, err := deploy(t, c, dir)
	if err != nil {
		t.Fatalf("deploy %s: %v", dir, err)
	}
	return res
}

// worker makes a one-file JS service answering body on route.
func worker(t testing.TB, name, routes, body string) string {
	t.Helper()
	toml := "name = \"" + name + "\"\nmain = \"index.js\"\n"
	if routes != "" {
		toml += "routes = [" + routes + "]\n"
	}
	return writeService(t, toml, map[string]string{
		"index.js": "export default { fetch(req) { return new Response(" + body + ") } }",
	})
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, n *node.Node, host, path string) response {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+n.GatewayAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func expectBody(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %q, want %d %q", r.status, r.body, status, body)
	}
}

func apiErr(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *client.Error", err, err)
	}
	if ce.Status != status || ce.Code != code {
		t.Fatalf("err = %d %s %q, want %d %s", ce.Status, ce.Code, ce.Message, status, code)
	}
	return ce
}

func TestDeployRollbackRemove(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	ctx := context.Background()

	v1 := mustDeploy(t, c, worker(t, "hello", `"/api/hello/*"`, `'v1 ' + new URL(req.url).pathname`))
	if v1.Status != api.StatusDeployed || len(v1.Version) != 12 {
		t.Fatalf("deploy v1: %+v", v1)
	}
	expectBody(t, get(t, n, "", "/api/hello"), 200, "v1 /api/hello")
	expectBody(t, get(t, n, "", "/api/hello/a/b?x=1"), 200, "v1 /api/hello/a/b")

	v2 := mustDeploy(t, c, worker(t, "hello", `"/api/hello/*"`, `'v2'`))
	if v2.Previous != v1.Version {
		t.Fatalf("v2.Previous = %q, want %q", v2.Previous, v1.Version)
	}
	expectBody(t, get(t, n, "", "/api/hello/x"), 200, "v2")

	again := mustDeploy(t, c, worker(t, "hello", `"/api/hello/*"`, `'v2'`))
	if again.Status != api.StatusUnchanged || again.Version != v2.Version {
		t.Fatalf("redeploy of the same content: %+v", again)
	}

	vs, err := c.Versions(ctx, "hello")
	if err != nil || len(vs) != 2 || vs[0].ID != v1.Version || vs[1].ID != v2.Version || !vs[1].Active || vs[0].Active {
		t.Fatalf("versions: %v %+v", err, vs)
	}

	rb, err := c.Rollback(ctx, "hello", "")
	if err != nil || rb.Version != v1.Version || rb.Previous != v2.Version {
		t.Fatalf("rollback: %v %+v", err, rb)
	}
	expectBody(t, get(t, n, "", "/api/hello/x"), 200, "v1 /api/hello/x")

	_, err = c.Rollback(ctx, "hello", "")
	apiErr(t, err, 400, api.CodeBadRequest) // nothing older than v1

	rb, err = c.Rollback(ctx, "hello", v2.Version[:6])
	if err != nil || rb.Version != v2.Version {
		t.Fatalf("rollback to prefix: %v %+v", err, rb)
	}
	expectBody(t, get(t, n, "", "/api/hello/x"), 200, "v2")

	_, err = c.Rollback(ctx, "hello", "ffffffffffff")
	apiErr(t, err, 404, api.CodeNotFound)

	if err := c.Remove(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if r := get(t, n, "", "/api/hello/x"); r.status != 404 {
		t.Fatalf("after rm: %d %q", r.status, r.body)
	}
	_, err = c.Versions(ctx, "hello")
	apiErr(t, err, 404, api.CodeNotFound)
	list, err := c.Services(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("services after rm: %v %+v", err, list)
	}
	// The route is free again for another service.
	mustDeploy(t, c, worker(t, "other", `"/api/hello/*"`, `'other'`))
	expectBody(t, get(t, n, "", "/api/hello/x"), 200, "other")
}

func TestRestartKeepsServing(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	token := n.Token()
	mustDeploy(t, adminClient(n), worker(t, "persist", `"/p/*"`, `'still here'`))
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, dir)
	if n2.Token() != token {
		t.Fatalf("token changed across restart")
	}
	expectBody(t, get(t, n2, "", "/p/1"), 200, "still here")
	vs, err := adminClient(n2).Versions(context.Background(), "persist")
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions after restart: %v %+v", err, vs)
	}
}

func TestDataDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	startNode(t, dir)
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0"})
	err := n.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "in use by another wisp node") {
		t.Fatalf("second node on one data dir: %v", err)
	}
}

func TestBrokenVersionNeverTakesTraffic(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "svc", `"/svc/*"`, `'good'`))
	good := writeService(t, "name = \"svc\"\nmain = \"index.js\"\nroutes = [\"/svc/*\"]\n", nil)
	s, err := project.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, code, expectedErr string
	}{
		{"syntax error", "var x = ;", "failed to load"},
		{"top-level throw", "throw new Error('no config')", "no config"},
		{"no default export", "var __wisp_worker = {};", "no default export"},
		{"no fetch handler", "var __wisp_worker = { default: { queue() {} } };", "no fetch handler"},
		{"top-level loop", "for(;;){}", "time limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Deploy(context.Background(), "svc", s.ManifestPath, s.Source, []byte(tc.code))
			ce := apiErr(t, err, 422, api.CodeLoadFailed)
			if !strings.Contains(ce.Message, tc.expectedErr) {
				t.Fatalf("message %q does not mention %q", ce.Message, tc.expectedErr)
			}
			expectBody(t, get(t, n, "", "/svc/x"), 200, "good")
			vs, err := c.Versions(context.Background(), "svc")
			if err != nil || len(vs) != 1 {
				t.Fatalf("a broken version was stored: %v %+v", err, vs)
			}
		})
	}
}

func TestRouteCollisionRejected(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "first", `"/api/*", "/exact"`, `'first'`))
	_, err := deploy(t, c, worker(t, "second", `"/api/*"`, `'second'`))
	ce := apiErr(t, err, 409, api.CodeRouteConflict)
	if !strings.Contains(ce.Message, `"first"`) || !strings.Contains(ce.Message, `"second"`) || !strings.Contains(ce.Message, "/api/*") {
		t.Fatalf("collision message should name both services and the route: %q", ce.Message)
	}
	if _, err := c.Service(context.Background(), "second"); err == nil {
		t.Fatal("the rejected service was created")
	}
	// Not a collision: a more specific route on another service.
	mustDeploy(t, c, worker(t, "second", `"/api/special/*"`, `'second'`))
	expectBody(t, get(t, n, "", "/api/special/x"), 200, "second")
	expectBody(t, get(t, n, "", "/api/other"), 200, "first")
	expectBody(t, get(t, n, "", "/exact"), 200, "first")
	if r := get(t, n, "", "/exact/below"); r.status != 404 {
		t.Fatalf("exact route matched below itself: %d", r.status)
	}
}

func TestHostRoutes(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "site", `"shop.example.com/*"`, `'site'`))
	mustDeploy(t, c, worker(t, "api", `"shop.example.com/api/*", "/api/*"`, `'api'`))
	mustDeploy(t, c, worker(t, "wild", `"*.example.com/*"`, `'wild'`))
	expectBody(t, get(t, n, "shop.example.com", "/"), 200, "site")
	expectBody(t, get(t, n, "SHOP.example.com:8080", "/about"), 200, "site")
	expectBody(t, get(t, n, "shop.example.com", "/api/x"), 200, "api")
	expectBody(t, get(t, n, "other.example.com", "/x"), 200, "wild")
	expectBody(t, get(t, n, "localhost", "/api/x"), 200, "api")
	if r := get(t, n, "localhost", "/about"); r.status != 404 {
		t.Fatalf("unrouted path: %d", r.status)
	}
}

func TestAdminAuth(t *testing.T) {
	n := startNode(t, t.TempDir())
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"no token", "", 401},
		{"wrong token", "Bearer " + strings.Repeat("0", 64), 401},
		{"not bearer", "Basic " + n.Token(), 401},
		{"right token", "Bearer " + n.Token(), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", n.AdminURL()+"/v1/services", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if r := do(t, req); r.status != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
		})
	}
	req, _ := http.NewRequest("GET", n.AdminURL()+"/healthz", nil)
	if r := do(t, req); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	req, _ = http.NewRequest("GET", n.AdminURL()+"/readyz", nil)
	if r := do(t, req); r.status != 200 {
		t.Fatalf("readyz: %d", r.status)
	}
	// The gateway serves routes only, never the admin API.
	if r := get(t, n, "", "/v1/services"); r.status != 404 {
		t.Fatalf("gateway served /v1/services: %d", r.status)
	}
}

func TestTokenFileMode(t *testing.T) {
	dir := t.TempDir()
	startNode(t, dir)
	st, err := os.Stat(filepath.Join(dir, node.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestBadDeploysChangeNothing(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, worker(t, "svc", `"/svc/*"`, `'good'`))
	code := []byte("var __wisp_worker = { default: { fetch() { return new Response('bad') } } };")
	tests := []struct {
		name, service, toml string
		status              int
		code, expectedErr   string
	}{
		{"invalid manifest", "svc", "name = \"svc\"\nmain = \"index.js\"\nroutes = [\"api\"]\n", 400, api.CodeInvalid, `routes[0]`},
		{"unknown key", "svc", "name = \"svc\"\nmain = \"index.js\"\nrouts = [\"/svc/*\"]\n", 400, api.CodeInvalid, "routs: unknown key"},
		{"name mismatch", "svc", "name = \"other\"\nmain = \"index.js\"\n", 400, api.CodeBadRequest, `does not match`},
		{"code that is not wasm", "svc", "name = \"svc\"\nwasm = \"svc.wasm\"\n", 422, api.CodeLoadFailed, "compile svc.wasm: invalid magic number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Deploy(context.Background(), tc.service, "svc/wisp.toml", []byte(tc.toml), code)
			ce := apiErr(t, err, tc.status, tc.code)
			// A load failure names the code, not the manifest.
			if !strings.Contains(ce.Message, tc.expectedErr) || (tc.code != api.CodeLoadFailed && !strings.Contains(ce.Message, "svc/wisp.toml")) {
				t.Fatalf("message %q should name the file and %q", ce.Message, tc.expectedErr)
			}
			expectBody(t, get(t, n, "", "/svc/x"), 200, "good")
			vs, err := c.Versions(context.Background(), "svc")
			if err != nil || len(vs) != 1 {
				t.Fatalf("registry changed: %v %+v", err, vs)
			}
		})
	}
	// An invalid service name in the URL.
	_, err := c.Deploy(context.Background(), "Bad_Name", "wisp.toml", []byte("name = \"x\""), code)
	apiErr(t, err, 400, api.CodeBadRequest)
}

func TestGuestFailuresAreContained(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"flaky\"\nmain = \"index.js\"\nroutes = [\"/flaky/*\"]\n[limits]\ntimeout_ms = 200\n", map[string]string{
		"index.js": `export default { async fetch(req) {
			const p = new URL(req.url).pathname;
			if (p === '/flaky/throw') throw new Error('kaboom');
			if (p === '/flaky/loop') { for (;;) {} }
			if (p === '/flaky/hang') return new Promise(() => {});
			return new Response('ok');
		} }`,
	}))
	mustDeploy(t, c, worker(t, "steady", `"/steady"`, `'steady'`))

	r := get(t, n, "", "/flaky/throw")
	id := r.header.Get(gateway.RequestIDHeader)
	if r.status != 500 || id == "" || !strings.Contains(r.body, id) || !strings.Contains(r.body, "kaboom") {
		t.Fatalf("throw: %d %q (request id %q)", r.status, r.body, id)
	}
	expectBody(t, get(t, n, "", "/flaky/ok"), 200, "ok")

	done := make(chan response)
	go func() { done <- get(t, n, "", "/flaky/loop") }()
	expectBody(t, get(t, n, "", "/steady"), 200, "steady") // served while flaky spins
	r = <-done
	if r.status != 504 || !strings.Contains(r.body, "time limit") || !strings.Contains(r.body, r.header.Get(gateway.RequestIDHeader)) {
		t.Fatalf("loop: %d %q", r.status, r.body)
	}
	r = get(t, n, "", "/flaky/hang")
	if r.status != 500 || !strings.Contains(r.body, "never settled") {
		t.Fatalf("hang: %d %q", r.status, r.body)
	}
	expectBody(t, get(t, n, "", "/flaky/ok"), 200, "ok")
	expectBody(t, get(t, n, "", "/steady"), 200, "steady")
}

func TestInvokePrivateService(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"private\"\nmain = \"index.js\"\n", map[string]string{
		"index.js": `export default { async fetch(req) {
			return Response.json({ method: req.method, url: new URL(req.url).pathname + new URL(req.url).search,
				body: await req.text(), auth: req.headers.get('authorization'), custom: req.headers.get('x-custom') });
		} }`,
	}))
	if r := get(t, n, "", "/"); r.status != 404 {
		t.Fatalf("private service reachable through the gateway: %d", r.status)
	}
	res, err := c.Invoke(context.Background(), "private", "PUT", "/things?id=7", http.Header{"X-Custom": {"yes"}}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"PUT","url":"/things?id=7","body":"payload","auth":null,"custom":"yes"}`
	if res.Status != 200 || string(res.Body) != want || res.RequestID == "" {
		t.Fatalf("invoke: %d %s (id %q)", res.Status, res.Body, res.RequestID)
	}
	_, err = c.Invoke(context.Background(), "missing", "", "/", nil, nil)
	apiErr(t, err, 404, api.CodeNotFound)
}

func TestRequestBodyLimit(t *testing.T) {
	dir := t.TempDir()
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", MaxBodyBytes: 1024})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	mustDeploy(t, adminClient(n), writeService(t, "name = \"echo\"\nmain = \"index.js\"\nroutes = [\"/echo\"]\n", map[string]string{
		"index.js": `export default { async fetch(req) { return new Response(String((await req.text()).length)) } }`,
	}))
	req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+"/echo", strings.NewReader(strings.Repeat("a", 1024)))
	expectBody(t, do(t, req), 200, "1024")
	req, _ = http.NewRequest("POST", "http://"+n.GatewayAddr()+"/echo", strings.NewReader(strings.Repeat("a", 1025)))
	if r := do(t, req); r.status != 413 {
		t.Fatalf("over-limit body: %d %q", r.status, r.body)
	}
}

// benchNode starts a node serving a hello-world worker on /hello.
func benchNode(b *testing.B) string {
	n := startNode(b, b.TempDir())
	mustDeploy(b, adminClient(n), writeService(b, "name = \"hello\"\nmain = \"index.js\"\nroutes = [\"/hello\"]\n[limits]\nmax_instances = 8\n", map[string]string{
		"index.js": "export default { fetch() { return new Response('Hello, world!') } }",
	}))
	return n.GatewayAddr()
}
