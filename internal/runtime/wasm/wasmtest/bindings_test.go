package wasmtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestGoBindingsOnJetStream deploys the wasm package's test guest (Go SDK)
// with a KV namespace and a bucket on a real node, so its host functions
// run against the JetStream implementations, through the gateway.
func TestGoBindingsOnJetStream(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "guest.wasm"), "../testdata/guest")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test guest: %v\n%s", err, out)
	}
	toml := "name = \"guest\"\nwasm = \"guest.wasm\"\nroutes = [\"/*\"]\n\n[vars]\nNAME = \"wisp\"\n\n[[kv_namespaces]]\nbinding = \"STORE\"\n\n[[buckets]]\nbinding = \"FILES\"\n"
	if err := os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	n := wasmtest.StartNode(t, "")
	n.MustDeploy(t, dir)
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/var/NAME", "", 200, "true wisp"},
		{"GET", "/kv/colour", "", 404, "not found"},
		{"PUT", "/kv/colour", "blue", 200, ""},
		{"GET", "/kv/colour", "", 200, "blue"},
		{"PUT", "/kv/shade", "navy", 200, ""},
		{"GET", "/kv", "", 200, `"keys":[{"name":"colour"},{"name":"shade"}]`},
		{"DELETE", "/kv/colour", "", 200, ""},
		{"GET", "/kv/colour", "", 404, ""},
		{"PUT", "/obj/notes.txt", "hello objects", 200, `"key":"notes.txt","size":13`},
		{"GET", "/obj/notes.txt", "", 200, "hello objects"},
		{"GET", "/obj/notes.txt?offset=6&length=3", "", 200, "obj"},
		{"DELETE", "/obj/notes.txt", "", 200, ""},
		{"GET", "/obj/notes.txt", "", 404, ""},
		{"GET", "/kv-unbound", "", 502, `no KV namespace is bound as "NOPE"`},
	}
	for _, s := range steps {
		r := n.Do(t, s.method, s.path, nil, s.body)
		if r.Status != s.status || !strings.Contains(r.Body, s.want) {
			t.Fatalf("%s %s: %d %q, want %d with %q", s.method, s.path, r.Status, r.Body, s.status, s.want)
		}
	}
}
