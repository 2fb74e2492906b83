package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestInitGoDeploys: `wisp init NAME --template go` makes a folder that
// `wisp deploy` builds (its [build] command runs the Go toolchain) and
// deploys as it is, and the service answers through the gateway.
func TestInitGoDeploys(t *testing.T) {
	n := node.New(node.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", WasmCacheDir: wasmtest.CacheDir()})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	env := map[string]string{"WISP_SERVER": n.AdminURL(), "WISP_TOKEN": n.Token()}

	dir := filepath.Join(t.TempDir(), "gohello")
	if r := run(t, env, "", "init", dir, "--template", "go"); r.code != 0 {
		t.Fatalf("init: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{"wisp.toml", "go.mod", "main.go", ".gitignore", "wisp-sdk/go.mod", "wisp-sdk/wisp/serve_wasip1.go"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not write %s: %v", f, err)
		}
	}
	// Not run(): the first build of a Go module for wasip1, and its first
	// compile by wazero (under -race on a fresh CI machine), can take
	// minutes.
	start := time.Now()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	code := cli.Main(ctx, []string{"deploy", dir}, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	t.Logf("build and deploy took %v", time.Since(start).Round(time.Millisecond))
	if _, err := os.Stat(filepath.Join(dir, "gohello.wasm")); err != nil {
		t.Fatalf("the build command did not make gohello.wasm: %v", err)
	}
	if code, body := get(t, n, "/gohello/world"); code != 200 || body != "Hello from gohello! You asked for /gohello/world\n" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code, body := get(t, n, "/gohello/health"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("health: %d %q", code, body)
	}
}
