package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrains runs the real binary: a request in flight when the
// node gets SIGTERM still gets its answer, and the process exits cleanly.
func TestSIGTERMDrains(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	svc := filepath.Join(work, "slow")
	if err := os.MkdirAll(svc, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"wisp.toml": "name = \"slow\"\nmain = \"index.js\"\nroutes = [\"/slow\"]\n",
		"index.js":  "export default { async fetch() { await new Promise(r => setTimeout(r, 1500)); return new Response('drained') } }",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(svc, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, gw := start(t, work, "serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	if out, code := wisp(t, work, []string{"WISP_DATA=" + data}, "deploy", svc); code != 0 {
		t.Fatalf("deploy: %d\n%s", code, out)
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + gw + "/slow")
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- answer{resp.StatusCode, string(b), err}
	}()
	// Wait until the request runs in the worker (which sleeps 1.5 s).
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		out, code := wisp(t, work, []string{"WISP_DATA=" + data}, "ls", "--json")
		var list []struct {
			Pool *struct{ Busy int } `json:"pool"`
		}
		if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
			return fmt.Errorf("wisp ls --json: %d %v\n%s", code, err, out)
		}
		if len(list) != 1 || list[0].Pool == nil || list[0].Pool.Busy != 1 {
			return fmt.Errorf("the request is not running yet: %s", out)
		}
		return nil
	})
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("wisp exited with %v after SIGTERM", err)
	}
	select {
	case a := <-inflight:
		if a.err != nil || a.status != 200 || a.body != "drained" {
			t.Fatalf("in-flight request: %d %q %v; want it finished", a.status, a.body, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request got no answer")
	}
	if _, err := http.Get("http://" + gw + "/slow"); err == nil {
		t.Fatal("the gateway still answers after exit")
	}
}
