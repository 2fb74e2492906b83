package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// invocation is the part of `wisp invoke status --json` these tests read.
type invocation struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	Response *struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"response"`
}

// TestAsyncInvocationsSurviveKillNine queues asynchronous invocations of a
// slow service on the real binary, kills it with SIGKILL while they run,
// restarts it, and checks every accepted invocation completes.
func TestAsyncInvocationsSurviveKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: skipped in -short mode")
	}
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"WISP_DATA=" + data}
	serveArgs := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}
	p, gw := start(t, work, serveArgs...)
	svc := filepath.Join(work, "slow")
	writeTree(t, svc, map[string]string{
		"wisp.toml": "name = \"slow\"\nmain = \"index.js\"\nroutes = [\"/slow/*\"]\n[limits]\nmax_instances = 20\n",
		"index.js": `export default { async fetch(req) {
  const ms = Number(new URL(req.url).searchParams.get("ms") || 0);
  await new Promise(r => setTimeout(r, ms));
  return new Response("done " + req.headers.get("x-wisp-invocation-id"));
} }`,
	})
	if out, code := wisp(t, work, env, "deploy", svc); code != 0 {
		t.Fatalf("deploy: %s", out)
	}
	var ids []string
	for i := range 30 {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/slow/job?ms=%d", gw, 300+50*i), strings.NewReader("x"))
		req.Header.Set("Prefer", "respond-async")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var acc struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&acc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 202 || acc.ID == "" {
			t.Fatalf("async request %d: %d %v", i, resp.StatusCode, err)
		}
		ids = append(ids, acc.ID)
	}
	// Kill once some have completed and others are running.
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		out, _ := wisp(t, work, env, "invoke", "status", ids[0], "--json")
		if !strings.Contains(out, `"status": "completed"`) {
			return fmt.Errorf("first invocation not completed yet")
		}
		return nil
	})
	_ = p.stop(t, syscall.SIGKILL)

	start(t, work, serveArgs...)
	retried := 0
	for _, id := range ids {
		var inv invocation
		out, code := wisp(t, work, env, "invoke", "status", id, "--wait", "--json")
		if err := json.Unmarshal([]byte(out), &inv); err != nil || code != 0 {
			t.Fatalf("status of %s: exit %d %v\n%s", id, code, err, out)
		}
		if inv.Status != "completed" || inv.Response == nil || inv.Response.Body != "done "+id {
			t.Errorf("invocation %s after the kill: %+v", id, inv)
		}
		if inv.Attempts > 1 {
			retried++
		}
	}
	t.Logf("%d accepted invocations all completed after kill -9 and restart; %d ran again", len(ids), retried)
}
