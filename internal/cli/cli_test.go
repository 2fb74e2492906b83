package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

type result struct {
	code           int
	stdout, stderr string
}

// run runs the wisp command line in-process.
func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, out.String(), errOut.String()}
}

func startNode(t *testing.T) (*node.Node, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	// The shared wasm cache: compiling the shop's Go service under -race
	// takes longer than run()'s minute; .ci/run fills the cache first.
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", WasmCacheDir: wasmtest.CacheDir()})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n, map[string]string{"WISP_SERVER": n.AdminURL(), "WISP_TOKEN": n.Token()}
}

func get(t *testing.T, n *node.Node, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + n.GatewayAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"versions"},
		{"rollback"},
		{"rm", "a", "b"},
		{"ls", "--bogus"},
		{"init", "x", "--template", "cobol"},
		{"init", "Bad_Name"},
		{"invoke", "svc", "-H", "no-colon"},
		{"serve", "--cpu-sample-every", "-1s"},
		{"serve", "--outbound-allow", "not-a-cidr"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := run(t, map[string]string{"WISP_SERVER": "http://127.0.0.1:1", "WISP_TOKEN": "x"}, "", args...)
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "error:") {
				t.Fatalf("exit %d, stderr %q; want %d with an error", r.code, r.stderr, cli.ExitUsage)
			}
		})
	}
}

func TestFailuresExit1(t *testing.T) {
	unreachable := map[string]string{"WISP_SERVER": "http://127.0.0.1:1", "WISP_TOKEN": "x"}
	r := run(t, unreachable, "", "ls")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "cannot reach the wisp admin API") {
		t.Fatalf("unreachable server: %+v", r)
	}
	_, env := startNode(t)
	r = run(t, map[string]string{"WISP_SERVER": env["WISP_SERVER"], "WISP_TOKEN": "wrong"}, "", "ls")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "admin token") {
		t.Fatalf("wrong token: %+v", r)
	}
	r = run(t, env, "", "versions", "nope")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("missing service: %+v", r)
	}
	r = run(t, env, "", "deploy", t.TempDir())
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "no wisp.toml") {
		t.Fatalf("empty project: %+v", r)
	}
}

func TestInitDeployAndManage(t *testing.T) {
	n, env := startNode(t)
	work := t.TempDir()
	for _, tmpl := range []string{"js", "ts"} {
		dir := filepath.Join(work, "hello-"+tmpl)
		if r := run(t, env, "", "init", dir, "--template", tmpl); r.code != 0 {
			t.Fatalf("init %s: %+v", tmpl, r)
		}
		r := run(t, env, "", "deploy", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "deployed version") {
			t.Fatalf("deploy %s: %+v", tmpl, r)
		}
		status, body := get(t, n, "/hello-"+tmpl+"/x")
		if status != 200 || body != "Hello from hello-"+tmpl+"! You asked for /hello-"+tmpl+"/x\n" {
			t.Fatalf("template %s answers %d %q", tmpl, status, body)
		}
	}
	r := run(t, env, "", "init", filepath.Join(work, "hello-js"))
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("init over an existing folder: %+v", r)
	}

	r = run(t, env, "", "ls", "--json")
	var list []api.ServiceInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 || len(list) != 2 || list[0].Name != "hello-js" {
		t.Fatalf("ls --json: %v %+v", err, r)
	}
	r = run(t, env, "", "ls")
	if r.code != 0 || !strings.Contains(r.stdout, "hello-ts") || !strings.Contains(r.stdout, "/hello-ts/*") {
		t.Fatalf("ls: %+v", r)
	}

	// A second version, then rollback to the first.
	src := filepath.Join(work, "hello-js", "src", "index.js")
	b, _ := os.ReadFile(src)
	if err := os.WriteFile(src, bytes.Replace(b, []byte("${env.GREETING} from"), []byte("${env.GREETING} again from"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, env, "", "deploy", filepath.Join(work, "hello-js")); r.code != 0 {
		t.Fatalf("deploy v2: %+v", r)
	}
	if _, body := get(t, n, "/hello-js/"); !strings.Contains(body, "again") {
		t.Fatalf("v2 not served: %q", body)
	}
	r = run(t, env, "", "versions", "hello-js", "--json")
	var vs []api.VersionInfo
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil || len(vs) != 2 || !vs[1].Active {
		t.Fatalf("versions: %v %+v", err, r)
	}
	r = run(t, env, "", "rollback", "hello-js")
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back to version "+vs[0].ID) {
		t.Fatalf("rollback: %+v", r)
	}
	if _, body := get(t, n, "/hello-js/"); strings.Contains(body, "again") {
		t.Fatalf("rollback not served: %q", body)
	}
	if r := run(t, env, "", "rollback", "hello-js"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "no version older") {
		t.Fatalf("rollback past the first version: %+v", r)
	}

	// invoke: path, method, body from stdin, headers; exit 1 on >= 400.
	r = run(t, env, "", "invoke", "hello-js", "--path", "/hello-js/health")
	if r.code != 0 || r.stdout != `{"ok":true}` {
		t.Fatalf("invoke: %+v", r)
	}
	r = run(t, env, "", "invoke", "hello-ts", "--json", "-d", "@-", "--path", "/p")
	var inv struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || inv.Status != 200 || !strings.Contains(inv.Body, "/p") {
		t.Fatalf("invoke --json: %v %+v", err, r)
	}

	if r := run(t, env, "", "rm", "hello-js"); r.code != 0 || r.stdout != "hello-js: removed\n" {
		t.Fatalf("rm: %+v", r)
	}
	if status, _ := get(t, n, "/hello-js/"); status != 404 {
		t.Fatalf("removed service still served: %d", status)
	}
}

func TestDeployProjectReportsEachService(t *testing.T) {
	n, env := startNode(t)
	r := run(t, env, "", "deploy", "../../examples/shop", "--json")
	var res []api.DeployResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || len(res) != 7 {
		t.Fatalf("deploy shop: %v %+v", err, r)
	}
	for _, name := range []string{"cart", "inventory", "orders", "payments", "pricing", "reporting", "web"} {
		if !strings.Contains(r.stderr, name) {
			t.Fatalf("no progress line for %s in %q", name, r.stderr)
		}
	}
	if status, body := get(t, n, "/api/inventory/tent-2p"); status != 200 || !strings.Contains(body, "Two-person tent") {
		t.Fatalf("inventory: %d %q", status, body)
	}

	// A project where one service does not bundle: the others deploy, the
	// broken one is reported with file:line, and the exit code is 1.
	proj := t.TempDir()
	for name, src := range map[string]string{
		"good":   "export default { fetch() { return new Response('good') } }",
		"broken": "export default {\n  fetch() { return new Response('x' }\n}",
	} {
		dir := filepath.Join(proj, name)
		_ = os.MkdirAll(filepath.Join(dir, "src"), 0o755)
		_ = os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte("name = \""+name+"\"\nmain = \"src/index.js\"\nroutes = [\"/"+name+"\"]\n"), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "src", "index.js"), []byte(src), 0o644)
	}
	r = run(t, env, "", "deploy", proj)
	if r.code != cli.ExitFailure || !strings.Contains(r.stdout, "src/index.js:2:") || !strings.Contains(r.stdout, "good         deployed") {
		t.Fatalf("partly broken project: %+v", r)
	}
	if status, _ := get(t, n, "/broken"); status != 404 {
		t.Fatal("a service that failed to bundle was deployed")
	}
}

func TestClientFindsServerInDataDir(t *testing.T) {
	dir := t.TempDir()
	n := node.New(node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0"})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	if r := run(t, map[string]string{"WISP_DATA": dir}, "", "ls"); r.code != 0 || r.stdout != "no services deployed\n" {
		t.Fatalf("ls via data dir: %+v", r)
	}
	// Flags beat the environment.
	r := run(t, map[string]string{"WISP_DATA": dir}, "", "ls", "--server", "http://127.0.0.1:1")
	if r.code != cli.ExitFailure {
		t.Fatalf("--server did not override the data dir: %+v", r)
	}
	r = run(t, map[string]string{"WISP_DATA": t.TempDir()}, "", "ls")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "no admin token") {
		t.Fatalf("no token anywhere: %+v", r)
	}
}
