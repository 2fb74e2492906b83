package js

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

func TestScheduled(t *testing.T) {
	lg := &memLogs{}
	src := `let runs = 0;
export default {
  async scheduled(controller, env, ctx) {
    runs++;
    console.log('tick', controller.cron, controller.scheduledTime, controller.type, env.WHO, runs);
    ctx.waitUntil(new Promise((r) => setTimeout(() => { console.log('after the tick'); r(); }, 5)));
    if (controller.cron === 'fail') { controller.noRetry(); throw new Error('cron failed'); }
    if (controller.cron === 'fail-retry') throw new Error('try again');
  },
  fetch() { return new Response(String(runs)); },
}`
	inst := loadWith(t, src, limitsConfig{env: envWith(map[string]any{"WHO": "me"}), manifest: func(m *manifest.Manifest) {
		m.Triggers.Crons = []string{"*/5 * * * *"}
	}}, lg)
	sched := inst.(runtime.Scheduler)
	at := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	if err := sched.Scheduled(context.Background(), &runtime.ScheduledEvent{ID: "c1", Cron: "*/5 * * * *", ScheduledTime: at}); err != nil {
		t.Fatal(err)
	}
	want := "info tick */5 * * * * " + itoa(at.UnixMilli()) + " scheduled me 1\ninfo after the tick\n"
	if got := lg.text(); got != want {
		t.Fatalf("logs:\n%s\nwant:\n%s", got, want)
	}
	err := sched.Scheduled(context.Background(), &runtime.ScheduledEvent{ID: "c2", Cron: "fail", ScheduledTime: at})
	re, ok := err.(*runtime.Error)
	if !ok || !re.NoRetry || !strings.Contains(re.Message, "cron failed") || re.Kind != runtime.Exception {
		t.Fatalf("err = %#v, want an Exception with NoRetry", err)
	}
	err = sched.Scheduled(context.Background(), &runtime.ScheduledEvent{ID: "c3", Cron: "fail-retry", ScheduledTime: at})
	if re, ok := err.(*runtime.Error); !ok || re.NoRetry {
		t.Fatalf("err = %#v, want an Exception without NoRetry", err)
	}
	// The instance serves HTTP between ticks.
	rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
	if err != nil || rec.Body.String() != "3" {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
	if !inst.(runtime.HandlerSet).Handles(runtime.EventScheduled) || inst.(runtime.HandlerSet).Handles(runtime.EventQueue) {
		t.Fatal("Handles reports the wrong handlers")
	}
}

func TestScheduledTimesOut(t *testing.T) {
	inst := loadWith(t, `export default { scheduled() { for (;;) {} } }`, limitsConfig{timeoutMS: 100}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := inst.(runtime.Scheduler).Scheduled(ctx, &runtime.ScheduledEvent{ID: "c", Cron: "* * * * *", ScheduledTime: time.Now()})
	if re, ok := err.(*runtime.Error); !ok || re.Kind != runtime.Timeout {
		t.Fatalf("err = %v, want a Timeout", err)
	}
}

func TestQueue(t *testing.T) {
	src := `export default {
  async queue(batch, env, ctx) {
    const seen = batch.messages.map((m) => [m.id, typeof m.body === 'object' && m.body !== null && !(m.body instanceof ArrayBuffer) ? JSON.stringify(m.body) : m.body instanceof ArrayBuffer ? 'bytes:' + m.body.byteLength : m.body, m.attempts, m.timestamp.toISOString()]);
    console.log(batch.queue, JSON.stringify(seen));
    for (const m of batch.messages) {
      const action = typeof m.body === 'object' && m.body !== null ? m.body.action : undefined;
      if (action === 'ack') m.ack();
      if (action === 'retry') m.retry({ delaySeconds: 30 });
      if (action === 'retry-then-ack') { m.retry(); m.ack(); }
    }
    if (batch.queue === 'ack-all') batch.ackAll();
    if (batch.queue === 'retry-all') { batch.retryAll({ delaySeconds: 60 }); batch.ackAll(); }
    if (batch.queue === 'throws') throw new Error('handler failed');
    if (batch.queue === 'bad-delay') batch.messages[0].retry({ delaySeconds: 50000 });
  },
}`
	lg := &memLogs{}
	inst := loadWith(t, src, limitsConfig{manifest: func(m *manifest.Manifest) {
		m.Queues.Consumers = []manifest.QueueConsumer{{Queue: "orders"}}
	}}, lg)
	q := inst.(runtime.QueueConsumer)
	ts := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	msgs := func(bodies ...string) []runtime.QueueMessage {
		out := make([]runtime.QueueMessage, len(bodies))
		for i, b := range bodies {
			out[i] = runtime.QueueMessage{ID: "m" + itoa(int64(i)), Timestamp: ts, Body: []byte(b), ContentType: "json", Attempts: i + 1}
		}
		return out
	}
	type outcome = runtime.MessageOutcome
	tests := []struct {
		name      string
		batch     runtime.QueueBatch
		want      []outcome
		expectErr string
	}{
		{"success acks", runtime.QueueBatch{Queue: "orders", Messages: msgs(`{"n":1}`, `{"n":2}`)}, []outcome{{}, {}}, ""},
		{"explicit decisions win", runtime.QueueBatch{Queue: "throws", Messages: msgs(`{"action":"ack"}`, `{"action":"retry"}`, `{"n":3}`)},
			[]outcome{{}, {Retry: true, DelaySeconds: 30}, {Retry: true}}, "handler failed"},
		{"first call on a message counts", runtime.QueueBatch{Queue: "orders", Messages: msgs(`{"action":"retry-then-ack"}`)}, []outcome{{Retry: true}}, ""},
		{"ackAll", runtime.QueueBatch{Queue: "ack-all", Messages: msgs(`{"action":"retry"}`, `{}`)}, []outcome{{Retry: true, DelaySeconds: 30}, {}}, ""},
		{"retryAll, first batch call counts", runtime.QueueBatch{Queue: "retry-all", Messages: msgs(`{"action":"ack"}`, `{}`)}, []outcome{{}, {Retry: true, DelaySeconds: 60}}, ""},
		{"bad delay", runtime.QueueBatch{Queue: "bad-delay", Messages: msgs(`{}`)}, []outcome{{Retry: true}}, "delaySeconds must be between 0 and 43200"},
		{"text and bytes bodies", runtime.QueueBatch{Queue: "orders", Messages: []runtime.QueueMessage{
			{ID: "t", Timestamp: ts, Body: []byte("plain"), ContentType: "text", Attempts: 1},
			{ID: "b", Timestamp: ts, Body: []byte{1, 2, 3}, ContentType: "bytes", Attempts: 2},
		}}, []outcome{{}, {}}, ""},
		{"invalid json body", runtime.QueueBatch{Queue: "orders", Messages: msgs(`{nope`)}, []outcome{{Retry: true}}, "message m0: its body is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.batch.ID = "b1"
			res, err := q.Queue(context.Background(), &tc.batch)
			if tc.expectErr == "" && err != nil || tc.expectErr != "" && (err == nil || !strings.Contains(err.Error(), tc.expectErr)) {
				t.Fatalf("err = %v, want %q", err, tc.expectErr)
			}
			if len(res.Messages) != len(tc.want) {
				t.Fatalf("%d outcomes for %d messages", len(res.Messages), len(tc.want))
			}
			for i := range tc.want {
				if res.Messages[i] != tc.want[i] {
					t.Errorf("message %d: %+v, want %+v", i, res.Messages[i], tc.want[i])
				}
			}
		})
	}
	if got := lg.text(); !strings.Contains(got, `info orders [["t","plain",1,"2026-03-04T05:06:07.000Z"],["b","bytes:3",2,"2026-03-04T05:06:07.000Z"]]`) {
		t.Fatalf("logs:\n%s", got)
	}
}

func TestMissingHandlers(t *testing.T) {
	tests := []struct {
		name, src   string
		manifest    func(*manifest.Manifest)
		expectedErr string
	}{
		{"routes need fetch", `export default { queue() {} }`, func(m *manifest.Manifest) { m.Routes = []string{"/x"} }, "no fetch handler, but its manifest routes HTTP requests to it"},
		{"no handler at all", `export default { hello() {} }`, nil, "no fetch handler (nor scheduled or queue)"},
		{"crons need scheduled", `export default { fetch() {} }`, func(m *manifest.Manifest) { m.Triggers.Crons = []string{"* * * * *"} }, "no scheduled handler"},
		{"consumers need queue", `export default { fetch() {} }`, func(m *manifest.Manifest) { m.Queues.Consumers = []manifest.QueueConsumer{{Queue: "q"}} }, "no queue handler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryLoad(t, tc.src, limitsConfig{manifest: tc.manifest})
			if err == nil || !strings.Contains(err.Error(), tc.expectedErr) {
				t.Fatalf("err = %v, want %q", err, tc.expectedErr)
			}
		})
	}
	// A queue-only worker asked for fetch says so.
	inst := loadWith(t, `export default { queue() {} }`, limitsConfig{}, nil)
	if _, err := do(t, inst, "GET", "http://x/", "", time.Second); err == nil || !strings.Contains(err.Error(), "no fetch handler") {
		t.Fatalf("err = %v", err)
	}
}
