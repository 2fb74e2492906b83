package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/BurntSushi/toml"
)

// fuzzSeeds are manifests, good and bad, that start the fuzzer in the
// interesting parts of the schema. The testdata/*.toml files are added too.
var fuzzSeeds = []string{
	"",
	head,
	full,
	head + "[limits]\nmemory_mb = 0\nmax_instances = 0\nmin_instances = 3\n",
	head + "[vars]\nA = nan\nB = inf\nC = -0.0\nD = 1e300\n",
	head + "[vars]\nA = 1979-05-27T07:32:00Z\nB = { c = [1, { d = 07:32:00 }] }\n",
	head + "vars = [1]\n",
	head + "[[vars]]\nA = 1\n",
	head + "vars.A.B = 1\n",
	head + "routes = [\"/a/*\", \"A.example.com/b\", \"*.example.com/*\", \"/\", \"/*\"]\n",
	head + "routes = [\"api/cart\", \"*\", \"/a/%2e%2E/b\", \"/a%zz\", \"[::1]/*\"]\n",
	"name = \"cart\"\nmain = 'src\\..\\..\\x.js'\n",
	"name = \"cart\"\nwasm = \"x.wasm\"\nmain = \"\"\n",
	head + "[[r2_buckets]]\nbinding = \"A\"\n[[buckets]]\nbinding = \"A\"\n",
	head + "[[queues.consumers]]\nqueue = \"q\"\nmax_retries = 0\ndead_letter_queue = \"q\"\n",
	head + "[build]\n",
	head + "limits = 5\n",
	head + "[limits]\nmemory_mb = 99999999999999999999\n",
	"name = \"a\"\nname = \"b\"\n",
	"name = 'a\n",
	"[a.b]\n[a]\nc = 1\n",
	"\"\" = 1\n",
	"a = \"\\u0000\"\n",
}

// FuzzParse checks that Parse never panics, returns either a manifest or
// an *Error with problems, and that a manifest it returns survives being
// written back as TOML: parsing that gives the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("wisp.toml", data)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a manifest and an error: %v", err)
			}
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("Parse returned %T, want *manifest.Error: %v", err, err)
			}
			if merr.File != "wisp.toml" || len(merr.Problems) == 0 {
				t.Fatalf("malformed *Error: %#v", merr)
			}
			for _, p := range merr.Problems {
				if p.Msg == "" || p.Line < 0 {
					t.Fatalf("malformed problem %#v in %v", p, err)
				}
			}
			return
		}
		if m == nil {
			t.Fatal("Parse returned neither a manifest nor an error")
		}
		canon := m.Canonical()
		_ = m.Features()

		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(m); err != nil {
			t.Fatalf("encode parsed manifest: %v", err)
		}
		m2, err := Parse("wisp.toml", buf.Bytes())
		if err != nil {
			t.Fatalf("re-parse of the encoded manifest failed: %v\n%s", err, buf.Bytes())
		}
		if canon2 := m2.Canonical(); !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form changed through TOML:\n%s\n%s\nvia\n%s", canon, canon2, buf.Bytes())
		}
	})
}
