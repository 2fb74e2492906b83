package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/cron/crontest"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// eventEngine runs JS services with the real engine and gives their
// instances queue and scheduled handlers written in Go: a test double of
// the worker's handlers, reached through the node's real pools.
type eventEngine struct {
	queue     func(spec runtime.Spec, b *runtime.QueueBatch) (*runtime.QueueResult, error)
	scheduled func(spec runtime.Spec, ev *runtime.ScheduledEvent) error
}

func (e *eventEngine) Load(ctx context.Context, spec runtime.Spec) (runtime.Module, error) {
	m, err := js.Engine{}.Load(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &eventModule{Module: m, spec: spec, e: e}, nil
}

type eventModule struct {
	runtime.Module
	spec runtime.Spec
	e    *eventEngine
}

func (m *eventModule) NewInstance(ctx context.Context) (runtime.Instance, error) {
	in, err := m.Module.NewInstance(ctx)
	if err != nil {
		return nil, err
	}
	return &eventInstance{Instance: in, m: m}, nil
}

type eventInstance struct {
	runtime.Instance
	m *eventModule
}

func (i *eventInstance) Queue(ctx context.Context, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
	return i.m.e.queue(i.m.spec, b)
}

func (i *eventInstance) Scheduled(ctx context.Context, ev *runtime.ScheduledEvent) error {
	return i.m.e.scheduled(i.m.spec, ev)
}

func startEventNode(t *testing.T, e *eventEngine, cfg node.Config) *node.Node {
	t.Helper()
	if cfg.DataDir == "" && cfg.NATSURL == "" {
		cfg.DataDir = t.TempDir()
	} else if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Listen, cfg.Admin, cfg.ShutdownGrace = "127.0.0.1:0", "127.0.0.1:0", 5*time.Second
	if cfg.Triggers.Queues.AckWait == 0 {
		cfg.Triggers.Queues = queue.Config{AckWait: time.Second, BackoffBase: 50 * time.Millisecond}
	}
	n := node.New(cfg)
	if e != nil {
		node.SetEngine(n, "js", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

const plainWorker = "export default { fetch(req) { return new Response('ok') } }"

// eventWorker exports every handler, so that the JS runtime accepts its
// manifest; eventEngine's Go handlers take its queue batches and ticks.
const eventWorker = "export default { fetch(req) { return new Response('ok') }, queue() {}, scheduled() {} }"

func TestQueueConsumerRetriesDeadLettersAndRedrives(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]int{} // body → attempts of each delivery
	e := &eventEngine{queue: func(spec runtime.Spec, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
		res := &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.Messages))}
		for i, m := range b.Messages {
			mu.Lock()
			seen[string(m.Body)] = append(seen[string(m.Body)], m.Attempts)
			mu.Unlock()
			if strings.Contains(string(m.Body), "declined") {
				res.Messages[i].Retry = true
				continue
			}
			if err := spec.Env.Queues["FULFILMENT"].Send(context.Background(), []binding.Message{{Body: m.Body, ContentType: "json", DelaySeconds: -1}}); err != nil {
				return nil, err
			}
		}
		return res, nil
	}}
	n := startEventNode(t, e, node.Config{})
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, `name = "payments"
main = "index.js"
[[queues.producers]]
binding = "FULFILMENT"
queue = "fulfilment"
[[queues.consumers]]
queue = "orders"
max_batch_size = 5
max_batch_timeout = 1
max_retries = 2
dead_letter_queue = "orders-dlq"
`, map[string]string{"index.js": eventWorker}))
	ctx := context.Background()
	msgs := []api.SendMessage{{Body: json.RawMessage(`{"order":1}`)}, {Body: json.RawMessage(`{"order":2,"card":"declined"}`)}, {Body: json.RawMessage(`{"order":3}`)}}
	if _, err := c.SendQueue(ctx, "orders", msgs); err != nil {
		t.Fatal(err)
	}
	poll.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		qs, err := c.Queues(ctx)
		if err != nil {
			return err
		}
		got := map[string]api.QueueInfo{}
		for _, q := range qs {
			got[q.Name] = q
		}
		if got["fulfilment"].Messages != 2 || got["orders-dlq"].Messages != 1 || got["orders"].Messages != 0 {
			return fmt.Errorf("queues %+v", qs)
		}
		if got["orders"].Consumer != "payments" || got["orders"].DeadLetterQueue != "orders-dlq" || fmt.Sprint(got["fulfilment"].Producers) != "[payments]" {
			return fmt.Errorf("queue users %+v", qs)
		}
		return nil
	})
	dead, err := c.PeekQueue(ctx, "orders-dlq", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].DeadLetter == nil || dead[0].DeadLetter.Attempts != 3 || dead[0].DeadLetter.Queue != "orders" ||
		dead[0].DeadLetter.Error != "retried by the handler (message.retry())" {
		t.Fatalf("dead letters %+v", dead)
	}
	mu.Lock()
	if fmt.Sprint(seen[`{"order":2,"card":"declined"}`]) != "[1 2 3]" {
		t.Errorf("declined order delivered with attempts %v, want [1 2 3]", seen[`{"order":2,"card":"declined"}`])
	}
	mu.Unlock()
	red, err := c.RedriveQueue(ctx, "orders-dlq", "orders", 0)
	if err != nil || red.Moved != 1 {
		t.Fatalf("redrive: %+v %v", red, err)
	}
	poll.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if got := fmt.Sprint(seen[`{"order":2,"card":"declined"}`]); got != "[1 2 3 1 2 3]" {
			return fmt.Errorf("attempts after redrive %s", got)
		}
		return nil
	})
}

func TestQueueConsumerConflictsAndMissingHandler(t *testing.T) {
	e := &eventEngine{queue: func(runtime.Spec, *runtime.QueueBatch) (*runtime.QueueResult, error) { return nil, nil }}
	n := startEventNode(t, e, node.Config{})
	c := adminClient(n)
	consumer := func(name string) string {
		return writeService(t, "name = \""+name+"\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"orders\"\n", map[string]string{"index.js": eventWorker})
	}
	mustDeploy(t, c, consumer("payments"))
	_, err := deploy(t, c, consumer("audit"))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 409 || ce.Code != api.CodeQueueConflict || !strings.Contains(ce.Message, "queue orders is already consumed by service payments") {
		t.Fatalf("second consumer of orders: %v, want 409 queue_conflict", err)
	}
	// Redeploying the consumer itself is fine.
	if _, err := deploy(t, c, writeService(t, "name = \"payments\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"orders\"\nmax_batch_size = 3\n", map[string]string{"index.js": eventWorker})); err != nil {
		t.Fatalf("redeploy of the consumer: %v", err)
	}
}

func TestEventsRefusedWithoutHandler(t *testing.T) {
	n := startNode(t, t.TempDir()) // the real JS runtime
	c := adminClient(n)
	for _, tt := range []struct{ name, toml, want string }{
		{"queue", "[[queues.consumers]]\nqueue = \"orders\"\n", "the worker has no queue handler, but its manifest consumes a queue"},
		{"cron", "[triggers]\ncrons = [\"* * * * *\"]\n", "the worker has no scheduled handler, but its manifest has [triggers] crons"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(t, c, writeService(t, "name = \"lazy\"\nmain = \"index.js\"\n"+tt.toml, map[string]string{"index.js": plainWorker}))
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != 422 || !strings.Contains(ce.Message, tt.want) || !strings.Contains(ce.Message, tt.name) {
				t.Fatalf("deploy: %v, want 422 containing %q", err, tt.want)
			}
		})
	}
	if _, err := c.Service(context.Background(), "lazy"); err == nil {
		t.Error("a refused version was stored")
	}
}

const echoWorker = `export default { async fetch(req) {
  const body = await req.text();
  const n = new URL(req.url).searchParams.get("fail");
  if (n && Number(req.headers.get("x-wisp-attempt")) <= Number(n)) throw new Error("attempt " + req.headers.get("x-wisp-attempt") + " fails");
  return Response.json({ method: req.method, path: new URL(req.url).pathname, body, invocation: req.headers.get("x-wisp-invocation-id") }, { status: 201 });
} }`

func TestAsyncInvocation(t *testing.T) {
	var mu sync.Mutex
	var posted []job.Invocation
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var inv job.Invocation
		_ = json.NewDecoder(r.Body).Decode(&inv)
		mu.Lock()
		posted = append(posted, inv)
		mu.Unlock()
	}))
	defer cb.Close()
	n := startEventNode(t, nil, node.Config{Triggers: node.TriggersConfig{CallbackHosts: []string{"http://127.0.0.1:*"}}})
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"reports\"\nmain = \"index.js\"\nroutes = [\"/reports/*\"]\n", map[string]string{"index.js": echoWorker}))
	mustDeploy(t, c, writeService(t, "name = \"private\"\nmain = \"index.js\"\n", map[string]string{"index.js": echoWorker}))

	// Through the gateway, with a callback.
	req, _ := http.NewRequest("POST", "http://"+n.GatewayAddr()+"/reports/daily?fail=1", strings.NewReader("payload"))
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("X-Callback-Url", cb.URL+"/hook")
	res := do(t, req)
	var acc client.Accepted
	if err := json.Unmarshal([]byte(res.body), &acc); err != nil || res.status != 202 || acc.Status != "queued" || acc.Service != "reports" ||
		res.header.Get("Preference-Applied") != "respond-async" || res.header.Get("X-Wisp-Invocation-Id") != acc.ID {
		t.Fatalf("async request: %d %q %v", res.status, res.body, res.header)
	}
	inv := waitInvocation(t, c, acc.ID)
	want := fmt.Sprintf(`{"method":"POST","path":"/reports/daily","body":"payload","invocation":%q}`, acc.ID)
	if inv.Status != job.StatusCompleted || inv.Attempts != 2 || inv.Response == nil || inv.Response.Status != 201 || inv.Response.Body != want {
		t.Fatalf("outcome %+v response %+v; want completed on attempt 2 with %s", inv, inv.Response, want)
	}
	poll.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(posted) != 1 || posted[0].ID != acc.ID || posted[0].Status != job.StatusCompleted {
			return fmt.Errorf("callbacks %+v", posted)
		}
		return nil
	})

	// Through the admin API, to a private service.
	a, err := c.InvokeAsync(context.Background(), "private", "PUT", "/x", nil, []byte("hi"), "")
	if err != nil {
		t.Fatal(err)
	}
	if inv := waitInvocation(t, c, a.ID); inv.Status != job.StatusCompleted || !strings.Contains(inv.Response.Body, `"method":"PUT","path":"/x","body":"hi"`) {
		t.Fatalf("admin async outcome %+v %+v", inv, inv.Response)
	}

	// Refused: a callback off the allowlist, and an oversized body.
	req, _ = http.NewRequest("POST", "http://"+n.GatewayAddr()+"/reports/x", nil)
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("X-Callback-Url", "http://169.254.169.254/latest")
	if res := do(t, req); res.status != 400 || !strings.Contains(res.body, "not on this node's callback allowlist") {
		t.Errorf("callback off the allowlist: %d %q", res.status, res.body)
	}
	req, _ = http.NewRequest("POST", "http://"+n.GatewayAddr()+"/reports/x", strings.NewReader(strings.Repeat("x", job.MaxRequestBytes+1)))
	req.Header.Set("Prefer", "respond-async")
	if res := do(t, req); res.status != 413 {
		t.Errorf("oversized async body: %d %q", res.status, res.body)
	}
	if _, err := c.Invocation(context.Background(), strings.Repeat("0", 32)); err == nil || !strings.Contains(err.Error(), "no such invocation") {
		t.Errorf("unknown invocation: %v", err)
	}
}

func waitInvocation(t *testing.T, c *client.Client, id string) *job.Invocation {
	t.Helper()
	var inv *job.Invocation
	poll.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		var err error
		if inv, err = c.Invocation(context.Background(), id); err != nil {
			return err
		}
		if !inv.Terminal() {
			return fmt.Errorf("invocation %s", inv.Status)
		}
		return nil
	})
	return inv
}

// Two nodes on one NATS, with clocks the test moves: every tick of a
// service's cron runs once.
func TestCronFiresOnceWithTwoNodes(t *testing.T) {
	url := storetest.StartServer(t).ClientURL()
	var mu sync.Mutex
	runs := map[string]int{} // scheduled time → runs
	e := &eventEngine{scheduled: func(spec runtime.Spec, ev *runtime.ScheduledEvent) error {
		mu.Lock()
		defer mu.Unlock()
		runs[spec.Service+" "+ev.Cron+" "+ev.ScheduledTime.Format("15:04")]++
		return nil
	}}
	t0 := time.Date(2026, 3, 1, 9, 58, 30, 0, time.UTC)
	clocks := []*crontest.Clock{crontest.New(t0), crontest.New(t0)}
	var nodes []*node.Node
	for _, clk := range clocks {
		nodes = append(nodes, startEventNode(t, e, node.Config{NATSURL: url, Triggers: node.TriggersConfig{Clock: clk}}))
	}
	c := adminClient(nodes[0])
	mustDeploy(t, c, writeService(t, "name = \"reporting\"\nmain = \"index.js\"\n[triggers]\ncrons = [\"*/5 * * * *\", \"0 10 * * *\"]\n", map[string]string{"index.js": eventWorker}))
	info, err := adminClient(nodes[1]).Service(context.Background(), "reporting")
	if err != nil {
		t.Fatal(err)
	}
	if info.NextRun == nil || !info.NextRun.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("next run %v, want 10:00 UTC", info.NextRun)
	}
	settleClocks(t, clocks...)
	var want []string
	for m := 1; m <= 12; m++ {
		at := t0.Truncate(time.Minute).Add(time.Duration(m) * time.Minute)
		clocks[0].Set(at.Add(100 * time.Millisecond))
		clocks[1].Set(at.Add(30 * time.Millisecond))
		if at.Minute()%5 == 0 {
			want = append(want, "reporting */5 * * * * "+at.Format("15:04"))
		}
		if at.Hour() == 10 && at.Minute() == 0 {
			want = append(want, "reporting 0 10 * * * "+at.Format("15:04"))
		}
		settleClocks(t, clocks...)
		poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(runs) != len(want) {
				return fmt.Errorf("runs %v, want %v", runs, want)
			}
			return nil
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, w := range want {
		if runs[w] != 1 {
			t.Errorf("%s ran %d times, want once", w, runs[w])
		}
	}
	if len(runs) != len(want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
}

// settleClocks waits until each node's scheduler waits on its clock.
func settleClocks(t *testing.T, clocks ...*crontest.Clock) {
	t.Helper()
	poll.CheckFor(t, 10*time.Second, 2*time.Millisecond, func() error {
		for i, c := range clocks {
			if w := c.Waiters(); w != 1 {
				return fmt.Errorf("clock %d has %d waiters", i, w)
			}
		}
		return nil
	})
}

// Removing a consumer leaves its queue's messages for the next consumer,
// and a redeploy with other settings keeps consuming.
func TestConsumerFollowsTheActiveVersion(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{} // service → bodies
	e := &eventEngine{queue: func(spec runtime.Spec, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range b.Messages {
			got[spec.Service] = append(got[spec.Service], string(m.Body))
		}
		return &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.Messages))}, nil
	}}
	n := startEventNode(t, e, node.Config{})
	c := adminClient(n)
	ctx := context.Background()
	consumer := func(name, extra string) string {
		return writeService(t, "name = \""+name+"\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"jobs\"\nmax_batch_timeout = 1\n"+extra, map[string]string{"index.js": eventWorker})
	}
	count := func(svc string, want int) func() error {
		return func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(got[svc]) != want {
				return fmt.Errorf("%s handled %v, want %d", svc, got[svc], want)
			}
			return nil
		}
	}
	sendOne := func(body string) {
		t.Helper()
		if _, err := c.SendQueue(ctx, "jobs", []api.SendMessage{{Body: json.RawMessage(body)}}); err != nil {
			t.Fatal(err)
		}
	}
	mustDeploy(t, c, consumer("first", ""))
	sendOne(`1`)
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, count("first", 1))
	mustDeploy(t, c, consumer("first", "max_batch_size = 2\n")) // new settings: the runner restarts
	sendOne(`2`)
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, count("first", 2))
	if err := c.Remove(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	sendOne(`3`)
	qs, err := c.Queues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Name != "jobs" || qs[0].Consumer != "" || qs[0].Messages != 1 {
		t.Fatalf("queues after removing the consumer: %+v", qs)
	}
	mustDeploy(t, c, consumer("second", ""))
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, count("second", 1))
	mu.Lock()
	defer mu.Unlock()
	if got["second"][0] != "3" || len(got["first"]) != 2 {
		t.Errorf("handled %v", got)
	}
}

// SIGTERM-style shutdown lets a batch under way finish and acknowledges
// it: after a restart nothing is left to redeliver.
func TestShutdownFinishesBatchUnderWay(t *testing.T) {
	started, finished := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e := &eventEngine{queue: func(spec runtime.Spec, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
		once.Do(func() { close(started) })
		time.Sleep(500 * time.Millisecond)
		close(finished)
		return &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.Messages))}, nil
	}}
	dir := t.TempDir()
	cfg := node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 10 * time.Second}
	n := node.New(cfg)
	node.SetEngine(n, "js", e)
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := adminClient(n)
	mustDeploy(t, c, writeService(t, "name = \"slowpay\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"pay\"\nmax_batch_size = 1\n", map[string]string{"index.js": eventWorker}))
	if _, err := c.SendQueue(context.Background(), "pay", []api.SendMessage{{Body: json.RawMessage(`1`)}}); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("shutdown returned before the batch under way finished")
	}
	n2 := node.New(cfg)
	node.SetEngine(n2, "js", &eventEngine{queue: e.queue})
	if err := n2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n2.Shutdown(context.Background())
	qs, err := adminClient(n2).Queues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == "pay" && (q.Messages != 0 || q.InFlight != 0) {
			t.Fatalf("after a clean shutdown the batch is still queued: %+v", q)
		}
	}
}

// A node that starts with services already deployed (the start-up replay)
// runs their consumers and schedules.
func TestTriggersResumeAfterRestart(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	e := &eventEngine{
		queue: func(spec runtime.Spec, b *runtime.QueueBatch) (*runtime.QueueResult, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range b.Messages {
				seen = append(seen, "queue "+string(m.Body))
			}
			return &runtime.QueueResult{Messages: make([]runtime.MessageOutcome, len(b.Messages))}, nil
		},
		scheduled: func(spec runtime.Spec, ev *runtime.ScheduledEvent) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, "tick "+ev.ScheduledTime.Format("15:04"))
			return nil
		},
	}
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	clock := crontest.New(t0)
	cfg := node.Config{DataDir: dir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second, Triggers: node.TriggersConfig{Clock: clock}}
	n := node.New(cfg)
	node.SetEngine(n, "js", e)
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, adminClient(n), writeService(t, "name = \"both\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"q\"\nmax_batch_size = 1\n[triggers]\ncrons = [\"* * * * *\"]\n", map[string]string{"index.js": eventWorker}))
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock = crontest.New(t0)
	cfg.Triggers.Clock = clock
	n2 := node.New(cfg)
	node.SetEngine(n2, "js", e)
	if err := n2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n2.Shutdown(context.Background())
	if _, err := adminClient(n2).SendQueue(context.Background(), "q", []api.SendMessage{{Body: json.RawMessage(`"after restart"`)}}); err != nil {
		t.Fatal(err)
	}
	settleClocks(t, clock)
	clock.Set(t0.Add(30 * time.Second)) // 10:01
	poll.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		got := strings.Join(seen, ", ")
		if !strings.Contains(got, `queue "after restart"`) || !strings.Contains(got, "tick 10:01") {
			return fmt.Errorf("seen %q", got)
		}
		return nil
	})
}
