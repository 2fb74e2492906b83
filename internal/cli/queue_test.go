package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/queue"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestQueueCommands(t *testing.T) {
	_, env := startNode(t)
	if r := run(t, env, "", "queue", "ls"); r.code != 0 || r.stdout != "no queues\n" {
		t.Fatalf("queue ls with none: %+v", r)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wisp.toml"), "name = \"checkout\"\nmain = \"index.js\"\n[[queues.producers]]\nbinding = \"ORDERS\"\nqueue = \"orders\"\n")
	writeFile(t, filepath.Join(dir, "index.js"), "export default { fetch() { return new Response('ok') } }")
	if r := run(t, env, "", "deploy", dir); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	bin := filepath.Join(t.TempDir(), "blob")
	writeFile(t, bin, "\x00\x01")
	idRe := regexp.MustCompile(`^sent message [0-9a-f]{32} to orders\n$`)
	for _, args := range [][]string{
		{"queue", "send", "orders", `{"order":1}`},
		{"queue", "send", "orders", "--content-type", "text", "hello there"},
		{"queue", "send", "orders", "--content-type", "bytes", "--data", "@" + bin},
		{"queue", "send", "orders", "--delay", "3600", `"later"`},
	} {
		if r := run(t, env, "", args...); r.code != 0 || !idRe.MatchString(r.stdout) {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	r := run(t, env, "", "queue", "ls")
	want := "QUEUE   MESSAGES  IN FLIGHT  DELAYED  CONSUMER  PRODUCERS\norders  3         0          1        -         checkout\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("queue ls:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = run(t, env, "", "queue", "peek", "orders")
	if r.code != 0 || !strings.Contains(r.stdout, `json   {"order":1}`) || !strings.Contains(r.stdout, "text   hello there") || !strings.Contains(r.stdout, "bytes  base64:AAE=") {
		t.Fatalf("queue peek:\n%s", r.stdout)
	}
	r = run(t, env, "", "queue", "peek", "orders", "-n", "1", "--json")
	var peeked []queue.Peeked
	if err := json.Unmarshal([]byte(r.stdout), &peeked); err != nil || len(peeked) != 1 || peeked[0].Body != `{"order":1}` {
		t.Fatalf("queue peek --json: %v %+v", err, r)
	}
	r = run(t, env, "", "queue", "redrive", "orders", "--to", "archive", "--limit", "2")
	if r.code != 0 || r.stdout != "moved 2 messages from orders to archive\n" {
		t.Fatalf("redrive: %+v", r)
	}
	r = run(t, env, "", "queue", "redrive", "orders", "--to", "archive", "--json")
	var red api.RedriveResult
	if err := json.Unmarshal([]byte(r.stdout), &red); err != nil || red.Moved != 1 {
		t.Fatalf("redrive --json: %v %+v", err, r)
	}
	if r := run(t, env, "", "queue", "peek", "orders"); r.code != 0 || r.stdout != "orders has no waiting messages\n" {
		t.Fatalf("peek after redrive: %+v", r)
	}
	if r := run(t, env, "", "queue", "peek", "archive", "-n", "5"); r.code != 0 || strings.Count(r.stdout, "\n") != 4 {
		t.Fatalf("peek archive: %+v", r)
	}

	// Refusals: usage errors exit 2, refused calls 1, each naming the problem.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"queue"}, cli.ExitUsage, "queue needs a subcommand"},
		{[]string{"queue", "send", "orders", "not json"}, cli.ExitUsage, "the body is not JSON"},
		{[]string{"queue", "send", "orders"}, cli.ExitUsage, "a message body is required"},
		{[]string{"queue", "send", "orders", "--content-type", "xml", "x"}, cli.ExitUsage, `--content-type "xml"`},
		{[]string{"queue", "send", "orders", "--delay", "-1", "1"}, cli.ExitUsage, "must not be negative"},
		{[]string{"queue", "redrive", "orders"}, cli.ExitUsage, "--to QUEUE is required"},
		{[]string{"queue", "send", "Bad!", "1"}, cli.ExitFailure, `"Bad!" is not a valid queue name`},
		{[]string{"queue", "send", "orders", "--delay", "50000", "1"}, cli.ExitFailure, "delaySeconds 50000 is more than 43200"},
		{[]string{"queue", "redrive", "orders", "--to", "orders"}, cli.ExitFailure, "cannot redrive orders into itself"},
		{[]string{"queue", "peek", "orders", "-n", "0"}, cli.ExitFailure, "limit \"0\" must be a number from 1 to 1000"},
	} {
		r := run(t, env, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d stderr %q; want %d containing %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
}

func TestInvokeAsyncAndStatus(t *testing.T) {
	_, env := startNode(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wisp.toml"), "name = \"report\"\nmain = \"index.js\"\n")
	writeFile(t, filepath.Join(dir, "index.js"), `export default { async fetch(req) {
  const body = await req.text();
  if (body === "fail") throw new Error("cannot report");
  return new Response("report for " + body + "\n", { status: body === "missing" ? 404 : 200 });
} }`)
	if r := run(t, env, "", "deploy", dir); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	r := run(t, env, "", "invoke", "report", "--async", "-d", "march")
	m := regexp.MustCompile(`^queued invocation ([0-9a-f]{32}) of report \(see: wisp invoke status ([0-9a-f]{32})\)\n$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || m[1] != m[2] {
		t.Fatalf("invoke --async: %+v", r)
	}
	r = run(t, env, "", "invoke", "status", m[1], "--wait")
	if r.code != 0 || !strings.Contains(r.stdout, "status    completed\n") || !strings.Contains(r.stdout, "attempts  1\n") ||
		!strings.Contains(r.stdout, "request   POST /\n") || !strings.Contains(r.stdout, "response  200 OK\nreport for march\n") {
		t.Fatalf("invoke status:\n%s\n%s", r.stdout, r.stderr)
	}
	r = run(t, env, "", "invoke", "status", m[1], "--json")
	var inv job.Invocation
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || inv.ID != m[1] || inv.Response.Body != "report for march\n" {
		t.Fatalf("invoke status --json: %v %+v", err, r)
	}
	// A service answering 404 completes, and status exits 1 like invoke.
	r = run(t, env, "", "invoke", "report", "--async", "--wait", "-d", "missing")
	if r.code != cli.ExitFailure || !strings.Contains(r.stdout, "response  404 Not Found\n") {
		t.Fatalf("invoke --async --wait of a 404: %+v", r)
	}
	// Refusals.
	if r := run(t, env, "", "invoke", "status", "nope"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "not an invocation id") {
		t.Errorf("status of a bad id: %+v", r)
	}
	if r := run(t, env, "", "invoke", "report", "--async", "--callback", "http://127.0.0.1:9/x"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "allows no callback hosts") {
		t.Errorf("callback without an allowlist: %+v", r)
	}
	if r := run(t, env, "", "invoke", "status"); r.code != cli.ExitUsage {
		t.Errorf("status without an id: %+v", r)
	}
}
