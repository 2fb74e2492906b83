package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (path -> content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBundles(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		entry    string
		contains []string
	}{
		{
			name: "typescript and modules",
			files: map[string]string{
				"src/index.ts": "import { greet } from './greet';\nenum Kind { A = 'a' }\ninterface Env { NAME: string }\nexport default { fetch(r: Request, env: Env) { return new Response(greet(env.NAME) + Kind.A) } }\n",
				"src/greet.ts": "export const greet = (n: string): string => `hi ${n}`;\n",
			},
			entry:    "src/index.ts",
			contains: []string{"var __wisp_worker", "hi ${n}", `"a"`},
		},
		{
			name: "npm package from node_modules, workerd condition first",
			files: map[string]string{
				"index.js":                            "import slug from 'tiny-slug';\nexport default { fetch() { return new Response(slug('A B')) } }\n",
				"node_modules/tiny-slug/package.json": `{"name":"tiny-slug","exports":{"workerd":"./worker.js","default":"./node.js"}}`,
				"node_modules/tiny-slug/worker.js":    "export default (s) => s.toLowerCase().replace(/ /g, '-') + '-for-workers';\n",
				"node_modules/tiny-slug/node.js":      "export default () => 'node';\n",
			},
			entry:    "index.js",
			contains: []string{"-for-workers"},
		},
		{
			name: "cloudflare:workers",
			files: map[string]string{
				"index.js": "import { WorkerEntrypoint } from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint { fetch() { return new Response(this.env.X) } }\n",
			},
			entry:    "index.js",
			contains: []string{"WorkerEntrypoint = class", "__wisp_env"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, err := JS(tree(t, tc.files), tc.entry)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.contains {
				if !strings.Contains(string(code), want) {
					t.Errorf("bundle lacks %q:\n%s", want, code)
				}
			}
		})
	}
}

func TestBundleErrors(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		entry       string
		expectedErr []string
	}{
		{"syntax error at file:line", map[string]string{"src/index.ts": "export default {\n  fetch() { return new Response(\n}\n"}, "src/index.ts", []string{"src/index.ts:3:1: error:"}},
		{"missing module", map[string]string{"index.js": "import x from './nope';\nexport default { fetch() { return x } }\n"}, "index.js", []string{"index.js:1:15: error:", "./nope"}},
		{"missing package", map[string]string{"index.js": "\nimport x from 'left-pad';\n"}, "index.js", []string{"index.js:2:15: error:", "left-pad"}},
		{"node builtin", map[string]string{"index.js": "import { createHash } from 'node:crypto';\nexport default { fetch() { return createHash } }\n"}, "index.js", []string{"index.js:1:28: error: node:crypto is not supported by wisp"}},
		{"other cloudflare module", map[string]string{"index.js": "import { connect } from 'cloudflare:sockets';\n"}, "index.js", []string{"index.js:1:25:", "cloudflare:sockets is not supported by wisp"}},
		{"type error is not a bundle error, but a missing entry is", map[string]string{}, "index.ts", []string{"index.ts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := JS(tree(t, tc.files), tc.entry)
			if err == nil {
				t.Fatal("bundled without error")
			}
			for _, want := range tc.expectedErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestESMKeepsRuntimeModulesExternal(t *testing.T) {
	dir := tree(t, map[string]string{"index.js": "import { WorkerEntrypoint } from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint {}\n"})
	code, err := ESM(dir, "index.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(code), `from "cloudflare:workers"`) || !strings.Contains(string(code), "export {") {
		t.Fatalf("not an ES module importing cloudflare:workers:\n%s", code)
	}
}
