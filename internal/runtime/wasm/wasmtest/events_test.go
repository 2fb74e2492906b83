package wasmtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// TestGoQueueConsumerOnANode deploys the wasm package's events guest (Go
// SDK, wisp.HandleQueue) as the consumer of a queue on a real node: what
// it forwards reaches the next queue, what fails ends in the dead-letter
// queue with the guest's error.
func TestGoQueueConsumerOnANode(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "events.wasm"), "../testdata/events")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the events guest: %v\n%s", err, out)
	}
	toml := `name = "consumer"
wasm = "events.wasm"

[[queues.consumers]]
queue = "orders"
max_batch_size = 1
max_retries = 1
dead_letter_queue = "orders-dlq"

[[queues.producers]]
binding = "OUT"
queue = "fulfilment"

[triggers]
crons = ["*/5 * * * *"]
`
	if err := os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	n := wasmtest.StartNode(t, "")
	n.MustDeploy(t, dir)
	ctx := context.Background()
	body := func(s string) api.SendMessage {
		b, _ := json.Marshal(s)
		return api.SendMessage{Body: b, ContentType: "text"}
	}
	sent, err := n.Client.SendQueue(ctx, "orders", []api.SendMessage{body("forward"), body("fail")})
	if err != nil {
		t.Fatal(err)
	}
	poll.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		qs, err := n.Client.Queues(ctx)
		if err != nil {
			return err
		}
		got := map[string]uint64{}
		for _, q := range qs {
			got[q.Name] = q.Messages + q.Delayed
		}
		if got["fulfilment"] != 1 || got["orders-dlq"] != 1 || got["orders"] != 0 {
			return fmt.Errorf("queues %v", got)
		}
		return nil
	})
	fwd, err := n.Client.PeekQueue(ctx, "fulfilment", 10)
	if err != nil || len(fwd) != 1 || fwd[0].Body != "forwarded "+sent.Messages[0].ID {
		t.Fatalf("fulfilment: %+v %v", fwd, err)
	}
	dead, err := n.Client.PeekQueue(ctx, "orders-dlq", 10)
	if err != nil || len(dead) != 1 || dead[0].DeadLetter == nil || !strings.Contains(dead[0].DeadLetter.Error, "wisp_queue returned 1") {
		t.Fatalf("dead letters: %+v %+v %v", dead, dead[0].DeadLetter, err)
	}
	info, err := n.Client.Service(ctx, "consumer")
	if err != nil || info.NextRun == nil || info.NextRun.Minute()%5 != 0 {
		t.Fatalf("next run of a wasm cron: %+v %v", info, err)
	}
}
