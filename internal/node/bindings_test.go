package node_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding/secrets"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const secretWorker = "export default { fetch(req, env) { return new Response(env.TOKEN === undefined ? 'unset' : 'token ' + env.TOKEN.length) } }"

// TestSecretsAcrossNodes: a secret set through one node reaches a service
// on every node sharing the cluster's key, without a redeploy; a node
// without the key keeps serving what needs no secret and says why the
// rest does not load.
func TestSecretsAcrossNodes(t *testing.T) {
	url := storetest.StartServer(t).ClientURL()
	start := func(dir string, logTo *syncBuffer) *node.Node {
		cfg := node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", NATSURL: url}
		if logTo != nil {
			cfg.Logger = slog.New(slog.NewTextHandler(logTo, nil))
		}
		n := node.New(cfg)
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
		return n
	}
	dirA, dirB, dirC := t.TempDir(), t.TempDir(), t.TempDir()
	a := start(dirA, nil)
	key, err := os.ReadFile(filepath.Join(dirA, secrets.KeyFile))
	if err != nil {
		t.Fatalf("the first node made no key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dirB, secrets.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	b := start(dirB, nil)
	var cLog syncBuffer
	c := start(dirC, &cLog) // no key

	ca := adminClient(a)
	mustDeploy(t, ca, worker(t, "plain", `"/plain"`, `'plain'`))
	mustDeploy(t, ca, writeService(t, "name = \"vault\"\nmain = \"index.js\"\nroutes = [\"/vault\"]\n", map[string]string{"index.js": secretWorker}))
	served := func(n *node.Node, path, body string) {
		t.Helper()
		poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if r := get(t, n, "", path); r.body != body {
				return fmt.Errorf("%s: got %d %q, want %q", path, r.status, r.body, body)
			}
			return nil
		})
	}
	served(b, "/vault", "unset")
	if _, err := ca.PutSecret(context.Background(), "vault", "TOKEN", "t0k3n"); err != nil {
		t.Fatal(err)
	}
	// The node that took the call serves the secret when the call returns.
	if r := get(t, a, "", "/vault"); r.body != "token 5" {
		t.Fatalf("node a right after the put: %q", r.body)
	}
	served(b, "/vault", "token 5")
	if _, err := adminClient(b).PutSecret(context.Background(), "vault", "TOKEN", "longer-token"); err != nil {
		t.Fatal(err)
	}
	served(a, "/vault", "token 12")

	// The keyless node: everything else works; the vault does not load.
	served(c, "/plain", "plain")
	if _, err := adminClient(c).PutSecret(context.Background(), "vault", "OTHER", "x"); err == nil || !strings.Contains(err.Error(), "this node has no secrets key") {
		t.Fatalf("secret put through the keyless node: %v", err)
	}
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(cLog.String(), "service vault has secrets, and this node has no secrets key") {
			return fmt.Errorf("the keyless node's log does not say why vault does not load:\n%s", cLog.String())
		}
		return nil
	})
	// It keeps the version it loaded before vault had secrets (apply's
	// rule: a version that does not load leaves the loaded one), so the
	// secret never reaches it.
	if r := get(t, c, "", "/vault"); strings.HasPrefix(r.body, "token") {
		t.Fatalf("the keyless node serves the secret: %q", r.body)
	}
	if err := adminClient(b).DeleteSecret(context.Background(), "vault", "TOKEN"); err != nil {
		t.Fatal(err)
	}
	served(a, "/vault", "unset")
}

func TestBindingsNeedTheirManifestTables(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := adminClient(n)
	// A secret named like a var is hidden by it, and the deploy says so.
	if _, err := c.PutSecret(context.Background(), "shadow", "MODE", "secret"); err != nil {
		t.Fatal(err)
	}
	res := mustDeploy(t, c, writeService(t, "name = \"shadow\"\nmain = \"index.js\"\nroutes = [\"/shadow\"]\n[vars]\nMODE = \"plain\"\n", map[string]string{
		"index.js": "export default { fetch(req, env) { return new Response(env.MODE) } }",
	}))
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "secret MODE is hidden by a var or binding") {
		t.Fatalf("warnings: %q", res.Warnings)
	}
	expectBody(t, get(t, n, "", "/shadow"), 200, "plain")
	// A bad allowed_hosts entry is a manifest error naming the key (the
	// node checks again what the client checked).
	_, err := c.Deploy(context.Background(), "out", "out/wisp.toml", []byte("name = \"out\"\nmain = \"index.js\"\n[outbound]\nallowed_hosts = [\"ftp://x.com\"]\n"),
		[]byte("var __wisp_worker = { default: { fetch() { return new Response('x') } } };"))
	ce := apiErr(t, err, 400, "invalid_manifest")
	if !strings.Contains(ce.Message, `outbound.allowed_hosts[0]: "ftp://x.com" is not a host pattern`) {
		t.Fatalf("message: %s", ce.Message)
	}
}
