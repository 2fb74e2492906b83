package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/poll"
)

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogs(t *testing.T) {
	_, env := startNode(t)
	dir := filepath.Join(t.TempDir(), "talker")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte("name = \"talker\"\nmain = \"index.js\"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "index.js"), []byte(`export default { async fetch(req) {
		const msg = new URL(req.url).searchParams.get('say');
		console.log('said', msg);
		if (msg === 'fail') throw new Error('failing on purpose');
		console.warn({ careful: msg });
		return new Response('ok');
	} }`), 0o644)
	if r := run(t, env, "", "deploy", dir); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}

	// Follow first, then write: the line must arrive within a second.
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan int)
	go func() {
		done <- cli.Main(ctx, []string{"logs", "talker", "-f"}, cli.Env{Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] }})
	}()
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if r := run(t, env, "", "invoke", "talker", "--path", "/?say=hello"); r.code != 0 {
			return fmt.Errorf("invoke: %+v", r)
		}
		return nil
	})
	sent := time.Now()
	poll.CheckFor(t, time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(out.String(), "[talker] info: said hello") {
			return fmt.Errorf("followed output so far: %q", out.String())
		}
		return nil
	})
	t.Logf("followed log line arrived %v after the invocation returned", time.Since(sent).Round(time.Millisecond))
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("logs -f exited %d: %s", code, out.String())
	}

	if r := run(t, env, "", "invoke", "talker", "--path", "/?say=fail"); r.code != cli.ExitFailure {
		t.Fatalf("failing invoke: %+v", r)
	}
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		r := run(t, env, "", "logs", "talker", "--level", "error")
		if r.code != 0 || !strings.Contains(r.stdout, "failing on purpose") || strings.Contains(r.stdout, "said hello") {
			return fmt.Errorf("logs --level error: %+v", r)
		}
		return nil
	})
	r := run(t, env, "", "logs", "talker", "--json", "--since", "1h")
	var warned bool
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e logs.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("logs --json line %q: %v", line, err)
		}
		if e.Service != "talker" || e.Version == "" || e.Time.IsZero() {
			t.Fatalf("entry lacks service/version/time: %+v", e)
		}
		if e.Level == logs.Warn && e.Message == `{ careful: "hello" }` && e.RequestID != "" {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("the console.warn entry (with its request id) is missing from:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"logs", "talker", "--level", "loud"}, {"logs"}} {
		if r := run(t, env, "", bad...); r.code != cli.ExitUsage {
			t.Fatalf("%v: %+v", bad, r)
		}
	}
	if r := run(t, env, "", "logs", "talker", "--since", "yesterday"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "neither a duration") {
		t.Fatalf("bad --since: %+v", r)
	}
}
