package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/poll"
)

func TestTraceAndUsage(t *testing.T) {
	n, env := startNode(t)
	dir := filepath.Join(t.TempDir(), "echo")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte("name = \"echo\"\nmain = \"index.js\"\nroutes = [\"/echo/*\"]\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "index.js"), []byte(`export default { async fetch(req) {
		console.log('echoing', new URL(req.url).pathname);
		return new Response(new URL(req.url).pathname);
	} }`), 0o644)
	if r := run(t, env, "", "deploy", dir); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	req, _ := http.NewRequest("GET", "http://"+n.GatewayAddr()+"/echo/one", nil)
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Wisp-Request-Id")

	// wisp trace REQUEST-ID prints the tree with timings.
	var r result
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r = run(t, env, "", "trace", id); r.code != 0 {
			return fmt.Errorf("%+v", r)
		}
		return nil
	})
	tree := regexp.MustCompile(`(?s)^trace 0af7651916cd43dd8448eb211c80319c  1 spans  [0-9.]+(µs|ms)\n\s+START\s+DURATION\s+SPAN\n\s+0ns\s+[0-9.]+(µs|ms)\s+echo GET /echo/one → 200  \(http, cpu [0-9.]+(µs|ms), request ` + id + `\)\n$`)
	if !tree.MatchString(r.stdout) {
		t.Fatalf("wisp trace:\n%s", r.stdout)
	}
	if r := run(t, env, "", "trace", "--json", "0af7651916cd43dd8448eb211c80319c"); r.code != 0 || !strings.Contains(r.stdout, `"parent_id": "b7ad6b7169203331"`) {
		t.Fatalf("wisp trace --json: %+v", r)
	}
	if r := run(t, env, "", "trace", "--service", "echo"); r.code != 0 || !strings.Contains(r.stdout, "0af7651916cd43dd8448eb211c80319c") || !strings.Contains(r.stdout, "echo GET") {
		t.Fatalf("wisp trace (list): %+v", r)
	}
	if r := run(t, env, "", "trace", "nothex"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "neither a trace id") {
		t.Fatalf("bad id: %+v", r)
	}
	if r := run(t, env, "", "trace", "ffffffffffffffffffffffffffffffff"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "no trace") {
		t.Fatalf("unknown id: %+v", r)
	}

	// The console.log line and the access entry carry the trace id.
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		r := run(t, env, "", "logs", "echo", "--json")
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var e struct {
				Kind    string
				Message string
				TraceID string `json:"trace_id"`
			}
			_ = json.Unmarshal([]byte(line), &e)
			if e.TraceID != "0af7651916cd43dd8448eb211c80319c" {
				return fmt.Errorf("an entry without the trace id: %s", line)
			}
		}
		if !strings.Contains(r.stdout, `"kind":"request"`) || !strings.Contains(r.stdout, "echoing /echo/one") {
			return fmt.Errorf("the access entry or the console.log line is missing: %s", r.stdout)
		}
		return nil
	})

	// wisp usage
	for range 3 {
		get(t, n, "/echo/two")
	}
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		r := run(t, env, "", "usage", "--json")
		var rep api.UsageReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			return fmt.Errorf("%v: %+v", err, r)
		}
		if len(rep.Rows) != 1 || rep.Rows[0].Service != "echo" || rep.Rows[0].Invocations != 4 || rep.Rows[0].EgressBytes != uint64(len("/echo/one")+3*len("/echo/two")) {
			return fmt.Errorf("usage: %+v", rep)
		}
		return nil
	})
	r = run(t, env, "", "usage", "--since", "7d")
	table := regexp.MustCompile(`DAY\s+SERVICE\s+INVOCATIONS\s+WALL s\s+CPU s\s+GB-s\s+EGRESS\s*\n\s*\d{4}-\d\d-\d\d\s+echo\s+4\s+[0-9.]+\s+([0-9.]+|n/a)\s+[0-9.]+\s+36 B`)
	if r.code != 0 || !table.MatchString(r.stdout) {
		t.Fatalf("wisp usage:\n%s\n%s", r.stdout, r.stderr)
	}
	if r := run(t, env, "", "usage", "--since", "last week"); r.code != cli.ExitUsage {
		t.Fatalf("bad --since: %+v", r)
	}
}
