package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// TestTwoNodesShareExternalNATS runs two nodes on one external NATS server
// (`wisp serve --nats URL`): a deploy, a rollback and a removal made
// through one node's admin API take effect on the other through the
// registry watch.
func TestTwoNodesShareExternalNATS(t *testing.T) {
	url := storetest.StartServer(t).ClientURL()
	start := func() *node.Node {
		n := node.New(node.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", NATSURL: url})
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
		return n
	}
	a, b := start(), start()
	c := adminClient(a)
	served := func(n *node.Node, status int, body string) {
		t.Helper()
		poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			r := get(t, n, "", "/shared/x")
			if r.status != status || (body != "" && r.body != body) {
				return fmt.Errorf("got %d %q, want %d %q", r.status, r.body, status, body)
			}
			return nil
		})
	}
	mustDeploy(t, c, worker(t, "shared", `"/shared/*"`, `'one'`))
	served(b, 200, "one")
	mustDeploy(t, c, worker(t, "shared", `"/shared/*"`, `'two'`))
	served(b, 200, "two")
	if _, err := adminClient(b).Rollback(context.Background(), "shared", ""); err != nil {
		t.Fatal(err)
	}
	served(a, 200, "one")
	if err := c.Remove(context.Background(), "shared"); err != nil {
		t.Fatal(err)
	}
	served(b, 404, "")
}
