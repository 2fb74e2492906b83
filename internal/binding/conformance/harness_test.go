package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// runner builds the conformance guest of one runtime.
type runner interface {
	name() string
	// dir writes a service folder for the guest named name, whose
	// wisp.toml also holds tables (bindings and the like).
	dir(t *testing.T, name, tables string) string
}

// runners are the runtimes the suite holds to the same behaviour.
func runners() []runner {
	return []runner{jsRunner{}, goRunner{}}
}

type jsRunner struct{}

func (jsRunner) name() string { return "js" }

func (jsRunner) dir(t *testing.T, name, tables string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "js", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("name = %q\nmain = \"index.js\"\n\n[limits]\ntimeout_ms = 120000\n\n%s\n", name, tables)
	for f, b := range map[string][]byte{"wisp.toml": []byte(toml), "index.js": src} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// goRunner is the Go guest (testdata/go) on the wasm runtime, built once
// per test process with the SDK as it is in this checkout.
type goRunner struct{}

func (goRunner) name() string { return "go-wasm" }

func (goRunner) dir(t *testing.T, name, tables string) string {
	t.Helper()
	dir := t.TempDir()
	code := wasmtest.BuildGo(t, filepath.Join("testdata", "go"))
	// 512 MB: the limits test moves a 25 MiB value through the guest as
	// JSON, a string and bytes at once.
	toml := fmt.Sprintf("name = %q\nwasm = \"guest.wasm\"\n\n[limits]\ntimeout_ms = 120000\nmemory_mb = 512\n\n%s\n", name, tables)
	for f, b := range map[string][]byte{"wisp.toml": []byte(toml), "guest.wasm": code} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// forEachRunner runs the test body once per runtime.
func forEachRunner(t *testing.T, body func(t *testing.T, s *suite)) {
	for _, r := range runners() {
		t.Run(r.name(), func(t *testing.T) { body(t, newSuite(t, r)) })
	}
}

// clock is the node's KV clock, moved by tests.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// lockedBuffer collects the node's own log.
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

// suite is one node and one runtime.
type suite struct {
	t       *testing.T
	r       runner
	n       *node.Node
	c       *client.Client
	clock   *clock
	dataDir string
	log     *lockedBuffer // the node's own log (debug level)
	hub     *logs.Hub
}

func newSuite(t *testing.T, r runner) *suite {
	t.Helper()
	s := &suite{t: t, r: r, clock: &clock{}, dataDir: t.TempDir(), log: &lockedBuffer{}, hub: logs.NewHub()}
	s.n = node.New(node.Config{
		DataDir: s.dataDir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Logs:   s.hub, Now: s.clock.now,
		// Compiled wasm is shared with the wasm packages' tests (and warmed
		// by .ci/run before the race run).
		WasmCacheDir: wasmtest.CacheDir(),
		// Loopback is allowed so the suite can serve allowed fetches itself;
		// other private and metadata ranges stay refused.
		OutboundAllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.n.Shutdown(context.Background()) })
	s.c = client.New(s.n.AdminURL(), s.n.Token())
	return s
}

// with is the suite for a subtest: failures are reported on t.
func (s *suite) with(t *testing.T) *suite {
	c := *s
	c.t = t
	return &c
}

// deploy builds and deploys a guest named name with tables in its manifest.
func (s *suite) deploy(name, tables string) *api.DeployResult {
	s.t.Helper()
	res, err := s.tryDeploy(name, tables)
	if err != nil {
		s.t.Fatalf("deploy %s: %v", name, err)
	}
	return res
}

func (s *suite) tryDeploy(name, tables string) (*api.DeployResult, error) {
	s.t.Helper()
	p, err := project.Load(s.r.dir(s.t, name, tables))
	if err != nil {
		s.t.Fatal(err)
	}
	code, err := p.Build(context.Background(), io.Discard)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.c.Deploy(context.Background(), p.Manifest.Name, p.ManifestPath, p.Source, code)
}

// rpc runs one operation in a guest. It returns the result, or the
// message of the error the guest's binding threw.
func (s *suite) rpc(service string, msg map[string]any) (any, string) {
	s.t.Helper()
	body, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := s.c.Invoke(ctx, service, "POST", "/rpc", http.Header{"Content-Type": {"application/json"}}, body)
	if err != nil {
		s.t.Fatalf("invoke %s: %v", service, err)
	}
	var out struct {
		Result any `json:"result"`
		Error  *struct {
			Name, Message string
		} `json:"error"`
	}
	if res.Status != 200 || json.Unmarshal(res.Body, &out) != nil {
		s.t.Fatalf("%s %v: %d %s", service, msg["op"], res.Status, res.Body)
	}
	if out.Error != nil {
		return nil, out.Error.Message
	}
	return out.Result, ""
}

// ok runs an operation that must succeed.
func (s *suite) ok(service string, msg map[string]any) any {
	s.t.Helper()
	v, errMsg := s.rpc(service, msg)
	if errMsg != "" {
		s.t.Fatalf("%s %v: %s", service, msg["op"], errMsg)
	}
	return v
}

// fails runs an operation that must throw with a message containing want.
func (s *suite) fails(service string, msg map[string]any, want string) {
	s.t.Helper()
	v, errMsg := s.rpc(service, msg)
	if errMsg == "" || !strings.Contains(errMsg, want) {
		s.t.Fatalf("%s %v: got %v / error %q; want an error containing %q", service, msg["op"], v, errMsg, want)
	}
}

// skipIfMissing skips when the guest's runtime lacks a platform API the
// operation needs (the guest reports "<api> missing", the bindings
// "... needs <api>, which this wisp ... runtime does not have yet").
func (s *suite) skipIfMissing(errMsg, api, issue string) {
	s.t.Helper()
	if errMsg == api+" missing" || strings.Contains(errMsg, "needs "+api+", which this wisp") {
		s.t.Skipf("the %s runtime has no %s yet (%s); this check runs once it lands", s.r.name(), api, issue)
	}
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v (%T) is not an object", v, v)
	}
	return m
}
