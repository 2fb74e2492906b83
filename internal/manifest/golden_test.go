package manifest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden parses every testdata/*.toml and compares what Parse says with
// testdata/*.golden: the error text for a bad manifest, or the features and
// canonical form of a good one. Run with -update to rewrite the golden
// files, then review the diff.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.toml")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".toml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := goldenOutput(t, filepath.ToSlash(in), src)
			golden := strings.TrimSuffix(in, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test -update and review the diff)\n--- got\n%s--- want\n%s", in, golden, got, want)
			}
		})
	}
}

func goldenOutput(t *testing.T, file string, src []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	m, err := Parse(file, src)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Parse returned %T, want *manifest.Error: %v", err, err)
		}
		b.WriteString("error:\n")
		b.WriteString(err.Error())
		b.WriteByte('\n')
		return b.Bytes()
	}
	b.WriteString("kind: " + m.Kind() + "\n")
	b.WriteString("features: " + strings.Join(m.Features(), ", ") + "\n")
	b.WriteString("canonical:\n")
	if err := json.Indent(&b, m.Canonical(), "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestDocExamples parses the complete manifests in docs/manifest.md (the
// TOML blocks that start with name =), so the reference stays true.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "manifest.md"))
	if err != nil {
		t.Skipf("docs/manifest.md: %v", err)
	}
	blocks := 0
	for _, part := range strings.Split(string(doc), "```toml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if !strings.HasPrefix(block, "name = ") {
			continue
		}
		blocks++
		if _, err := Parse("docs/manifest.md", []byte(block)); err != nil {
			t.Errorf("example %d: %v\n%s", blocks, err, block)
		}
	}
	if blocks < 2 {
		t.Errorf("found %d complete examples in docs/manifest.md, want at least 2", blocks)
	}
}
