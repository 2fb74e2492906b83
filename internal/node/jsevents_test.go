package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/cron/crontest"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// The real JS runtime end to end: a producer worker sends, a consumer
// worker's queue() handler fails some messages N times, then they
// succeed or end in the dead-letter queue with the worker's error.
func TestJSProducerAndConsumer(t *testing.T) {
	n := startEventNode(t, nil, node.Config{})
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, `name = "shop"
main = "index.js"
routes = ["/order"]
[[queues.producers]]
binding = "ORDERS"
queue = "orders"
`, map[string]string{"index.js": `export default { async fetch(req, env) {
  const orders = await req.json();
  await env.ORDERS.sendBatch(orders.map((o) => ({ body: o })));
  return new Response('queued ' + orders.length);
} }`}))
	mustDeploy(t, c, writeService(t, `name = "payments"
main = "index.js"
[[queues.consumers]]
queue = "orders"
max_batch_size = 1
max_retries = 3
dead_letter_queue = "orders-dlq"
[[queues.producers]]
binding = "DONE"
queue = "done"
`, map[string]string{"index.js": `export default { async queue(batch, env) {
  const m = batch.messages[0];
  if (m.attempts <= m.body.fails) throw new Error('card declined for ' + m.body.id + ' on attempt ' + m.attempts);
  await env.DONE.send({ id: m.body.id, attempts: m.attempts }, { contentType: 'json' });
} }`}))
	orders := `[{"id":"a","fails":0},{"id":"b","fails":2},{"id":"c","fails":99}]`
	req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+"/order", strings.NewReader(orders))
	if res := do(t, req); res.status != 200 || res.body != "queued 3" {
		t.Fatalf("producer: %d %q", res.status, res.body)
	}
	ctx := context.Background()
	poll.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		done, err := c.PeekQueue(ctx, "done", 10)
		if err != nil {
			return err
		}
		dead, err := c.PeekQueue(ctx, "orders-dlq", 10)
		if err != nil {
			return err
		}
		if len(done) != 2 || len(dead) != 1 {
			return fmt.Errorf("done %d, dead letters %d", len(done), len(dead))
		}
		return nil
	})
	done, _ := c.PeekQueue(ctx, "done", 10)
	var got []string
	for _, d := range done {
		got = append(got, d.Body)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != `[{"id":"a","attempts":1} {"id":"b","attempts":3}]` {
		t.Errorf("handled %v", got)
	}
	dead, _ := c.PeekQueue(ctx, "orders-dlq", 10)
	if d := dead[0].DeadLetter; dead[0].Body != `{"id":"c","fails":99}` || d == nil || d.Attempts != 4 ||
		!strings.Contains(d.Error, "Error: card declined for c on attempt 4") {
		t.Errorf("dead letter %+v %+v", dead[0], dead[0].DeadLetter)
	}

	// The metrics say the same: a handled, b after 2 retries, c dead
	// after 3; every batch (1 + 3 + 4) an invocation with trigger queue.
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"wisp_queue_messages_acked_total", map[string]string{"queue": "orders"}, 2},
		{"wisp_queue_retries_total", map[string]string{"queue": "orders"}, 5},
		{"wisp_queue_dead_letters_total", map[string]string{"queue": "orders"}, 1},
		{"wisp_queue_dropped_total", map[string]string{"queue": "orders"}, 0},
		{"wisp_queue_messages", map[string]string{"queue": "orders"}, 0},
		{"wisp_queue_messages", map[string]string{"queue": "done"}, 2},
		{"wisp_queue_messages", map[string]string{"queue": "orders-dlq"}, 1},
		{"wisp_invocations_total", map[string]string{"service": "payments", "trigger": "queue"}, 8},
		{"wisp_invocations_total", map[string]string{"service": "payments", "trigger": "queue", "outcome": "error"}, 6},
		{"wisp_binding_operations_total", map[string]string{"service": "payments", "type": "queue", "operation": "send"}, 2},
	}
	poll.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		fams := scrape(t, n)
		for _, w := range want {
			if v := value(fams, w.name, w.labels); v != w.value {
				return fmt.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.value)
			}
		}
		if age := value(fams, "wisp_queue_oldest_message_age_seconds", map[string]string{"queue": "done"}); age <= 0 {
			return fmt.Errorf("the oldest message of done is %v s old, want > 0", age)
		}
		return nil
	})
}

// A JS scheduled() handler on two nodes sharing a NATS, with clocks the
// test moves: each tick reaches the handler once (it records it on a
// queue).
func TestJSCronOnTwoNodes(t *testing.T) {
	url := storetestServer(t)
	t0 := time.Date(2026, 3, 1, 23, 58, 30, 0, time.UTC)
	clocks := []*crontest.Clock{crontest.New(t0), crontest.New(t0)}
	var nodes []*node.Node
	for _, clk := range clocks {
		nodes = append(nodes, startEventNode(t, nil, node.Config{NATSURL: url, Triggers: node.TriggersConfig{Clock: clk, Queues: queue.Config{AckWait: time.Second, BackoffBase: 50 * time.Millisecond}}}))
	}
	c := adminClient(nodes[1])
	mustDeploy(t, c, writeService(t, `name = "reporting"
main = "index.js"
[triggers]
crons = ["* * * * *"]
[[queues.producers]]
binding = "TICKS"
queue = "ticks"
`, map[string]string{"index.js": `export default { async scheduled(controller, env) {
  await env.TICKS.send({ cron: controller.cron, at: new Date(controller.scheduledTime).toISOString() });
} }`}))
	settleClocks(t, clocks...)
	for m := 1; m <= 3; m++ { // 23:59, 00:00 (a new day), 00:01
		at := t0.Truncate(time.Minute).Add(time.Duration(m) * time.Minute)
		clocks[0].Set(at.Add(40 * time.Millisecond))
		clocks[1].Set(at.Add(90 * time.Millisecond))
		settleClocks(t, clocks...)
	}
	var got []string
	poll.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		ps, err := c.PeekQueue(context.Background(), "ticks", 10)
		if err != nil {
			return err
		}
		got = got[:0]
		for _, p := range ps {
			var v struct{ Cron, At string }
			_ = json.Unmarshal([]byte(p.Body), &v)
			got = append(got, v.At)
		}
		if len(got) < 3 {
			return fmt.Errorf("ticks %v", got)
		}
		return nil
	})
	sort.Strings(got)
	if fmt.Sprint(got) != "[2026-03-01T23:59:00.000Z 2026-03-02T00:00:00.000Z 2026-03-02T00:01:00.000Z]" {
		t.Errorf("ticks handled %v, want each once", got)
	}
}

func storetestServer(t *testing.T) string { return storetest.StartServer(t).ClientURL() }
