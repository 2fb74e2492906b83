package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/cli"
)

func TestKVCommands(t *testing.T) {
	_, env := startNode(t)
	dir := t.TempDir()
	for f, s := range map[string]string{
		"wisp.toml": "name = \"store\"\nmain = \"index.js\"\n\n[[kv_namespaces]]\nbinding = \"DATA\"\n",
		"index.js":  "export default { async fetch(req, env) { return new Response(await env.DATA.get('k') ?? 'none') } }",
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, env, "", "deploy", dir); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	steps := []struct {
		stdin  string
		args   []string
		code   int
		stdout string // exact, unless empty
		stderr string // contained
	}{
		{"", []string{"kv", "put", "store", "DATA", "k", "from an argument"}, 0, "store DATA: stored \"k\" (16 bytes)\n", ""},
		{"", []string{"invoke", "store"}, 0, "from an argument", ""},
		{"from stdin\n", []string{"kv", "put", "store", "DATA", "k2", "--ttl", "3600", "--metadata", `{"by":"cli"}`}, 0, "store DATA: stored \"k2\" (11 bytes)\n", ""},
		{"", []string{"kv", "get", "store", "DATA", "k2"}, 0, "from stdin\n", ""},
		{"", []string{"kv", "put", "store", "DATA", "k3", "-"}, 0, "store DATA: stored \"k3\" (0 bytes)\n", ""},
		{"", []string{"kv", "get", "store", "DATA", "missing"}, cli.ExitFailure, "", `key "missing" not found in store's KV binding DATA`},
		{"", []string{"kv", "get", "store", "NOPE", "k"}, cli.ExitFailure, "", "service store has no KV binding NOPE (it has DATA)"},
		{"", []string{"kv", "get", "ghost", "DATA", "k"}, cli.ExitFailure, "", "not found"},
		{"", []string{"kv", "put", "store", "DATA", strings.Repeat("x", 513), "v"}, cli.ExitFailure, "", "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."},
		{"", []string{"kv", "put", "store", "DATA", "k", "v", "--ttl", "10"}, cli.ExitFailure, "", "Expiration TTL must be at least 60."},
		{"", []string{"kv", "put", "store", "DATA", "k", "v", "--metadata", "{"}, cli.ExitUsage, "", "--metadata \"{\" is not JSON"},
		{"", []string{"kv", "ls", "store", "DATA", "--limit", "5000"}, cli.ExitUsage, "", "--limit must be from 1 to 1000"},
		{"", []string{"kv", "get", "store", "DATA"}, cli.ExitUsage, "", "accepts 3 arg"},
		{"", []string{"kv", "rm", "store", "DATA", "k3"}, 0, "store DATA: deleted \"k3\"\n", ""},
	}
	for _, s := range steps {
		r := run(t, env, s.stdin, s.args...)
		if r.code != s.code || (s.stdout != "" && r.stdout != s.stdout) || !strings.Contains(r.stderr, s.stderr) {
			t.Fatalf("wisp %s: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr containing %q", strings.Join(s.args, " "), r.code, r.stdout, r.stderr, s.code, s.stdout, s.stderr)
		}
	}

	r := run(t, env, "", "kv", "ls", "store", "DATA")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "KEY  EXPIRES") || !strings.Contains(r.stdout, `k2   20`) || !strings.Contains(r.stdout, `{"by":"cli"}`) {
		t.Fatalf("kv ls: %+v", r)
	}
	r = run(t, env, "", "kv", "ls", "store", "DATA", "--json", "--limit", "1")
	var page api.KVListResult
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Keys) != 1 || page.Keys[0].Name != "k" || page.ListComplete || page.Cursor == "" {
		t.Fatalf("kv ls --limit 1: %v %+v", err, r)
	}
	r = run(t, env, "", "kv", "ls", "store", "DATA", "--json", "--limit", "1", "--cursor", page.Cursor)
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Keys) != 1 || page.Keys[0].Name != "k2" {
		t.Fatalf("kv ls --cursor: %v %+v", err, r)
	}
	r = run(t, env, "", "kv", "get", "store", "DATA", "k2", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["value"] != "from stdin\n" || v["metadata"].(map[string]any)["by"] != "cli" || v["expiration"] == nil {
		t.Fatalf("kv get --json: %v %+v", err, r)
	}
}

func TestSecretCommandUsage(t *testing.T) {
	env := map[string]string{"WISP_SERVER": "http://127.0.0.1:1", "WISP_TOKEN": "x"}
	for _, args := range [][]string{
		{"secret", "put", "svc"},
		{"secret", "put", "svc", "NAME"}, // nothing on stdin
		{"secret", "ls"},
		{"secret", "rm", "svc"},
	} {
		r := run(t, env, "", args...)
		if r.code != cli.ExitUsage {
			t.Errorf("wisp %s: exit %d (%q), want %d", strings.Join(args, " "), r.code, r.stderr, cli.ExitUsage)
		}
	}
}
