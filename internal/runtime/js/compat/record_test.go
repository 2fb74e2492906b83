package compat

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/workerd"
)

// TestRecord asks workerd what each worker of the corpus answers and
// writes it to the worker's expected.json. It runs only when asked:
//
//	WISP_COMPAT_RECORD=1 WISP_WORKERD=/path/to/workerd go test ./internal/runtime/js/compat -run TestRecord
func TestRecord(t *testing.T) {
	if os.Getenv("WISP_COMPAT_RECORD") == "" {
		t.Skip("recording rewrites expected.json from workerd: set WISP_COMPAT_RECORD=1 and WISP_WORKERD (.ci/run does)")
	}
	bin, err := workerd.Binary("")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("workerd --version: %v", err)
	}
	version := strings.TrimSpace(string(out))
	corpus := loadCorpus(t)
	var ws []workerd.Worker
	for _, w := range corpus {
		code, err := bundle.ESM(w.dir, w.cases.Main)
		if err != nil {
			t.Fatalf("%s: bundle: %v", w.name, err)
		}
		ws = append(ws, workerd.Worker{Name: w.name, Module: code, Vars: w.cases.Vars})
	}
	dir, err := os.MkdirTemp("", "wisp-compat-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	p, err := workerd.Start(ctx, bin, dir, ws)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	for _, w := range corpus {
		client := &http.Client{
			Transport:     &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return p.Dial(ctx, w.name) }},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		}
		exp := expectedFile{Workerd: version}
		for _, r := range w.cases.Requests {
			got, err := r.send(ctx, client)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", w.name, r.Name, err, p.Stderr())
			}
			exp.Responses = append(exp.Responses, *got)
		}
		b, err := json.MarshalIndent(exp, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(w.dir, "expected.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded %d workers with %s", len(corpus), version)
}
