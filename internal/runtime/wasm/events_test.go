package wasm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

var (
	eventsOnce sync.Once
	eventsCode []byte
	eventsErr  error
)

// eventsModule builds testdata/events (a Go SDK queue consumer and cron
// handler).
func eventsModule(t testing.TB) []byte {
	t.Helper()
	eventsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wisp-events-")
		if err != nil {
			eventsErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "events.wasm")
		cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-o", out, "./testdata/events")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			eventsErr = &buildError{err: err, out: string(b)}
			return
		}
		eventsCode, eventsErr = os.ReadFile(out)
	})
	if eventsErr != nil {
		t.Fatalf("build testdata/events: %v", eventsErr)
	}
	return eventsCode
}

func TestQueueBatchThroughTheABI(t *testing.T) {
	out := &memQueue{}
	mod, l := loadModule(t, eventsModule(t), loadOpts{env: &binding.Env{Queues: map[string]binding.Producer{"OUT": out}}})
	inst := newInstance(t, mod)
	hs := inst.(runtime.HandlerSet)
	if !hs.Handles(runtime.EventQueue) || !hs.Handles(runtime.EventScheduled) || hs.Handles(runtime.EventFetch) {
		t.Fatalf("handles queue %v scheduled %v fetch %v; want queue and scheduled only (main did not call Serve)",
			hs.Handles(runtime.EventQueue), hs.Handles(runtime.EventScheduled), hs.Handles(runtime.EventFetch))
	}
	sent := time.UnixMilli(1767225600123).UTC()
	msg := func(id, body string) runtime.QueueMessage {
		return runtime.QueueMessage{ID: id, Timestamp: sent, Body: []byte(body), ContentType: "text", Attempts: 2}
	}
	tests := []struct {
		name    string
		bodies  []string
		want    []runtime.MessageOutcome
		wantErr string
	}{
		{"success acks what is undecided", []string{"ack", "forward", "other"}, []runtime.MessageOutcome{{}, {}, {}}, ""},
		{"a message's retry wins over its later ack", []string{"retry", "other"}, []runtime.MessageOutcome{{Retry: true, DelaySeconds: 7}, {}}, ""},
		{"failure retries what is undecided", []string{"ack", "fail", "retry"}, []runtime.MessageOutcome{{}, {Retry: true}, {Retry: true, DelaySeconds: 7}}, "wisp_queue returned 1"},
		{"retryAll covers the undecided", []string{"ack", "retry-all", "other"}, []runtime.MessageOutcome{{}, {Retry: true, DelaySeconds: 3}, {Retry: true, DelaySeconds: 3}}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &runtime.QueueBatch{ID: fmt.Sprintf("batch-%d", i), Queue: "orders"}
			for j, body := range tt.bodies {
				b.Messages = append(b.Messages, msg(fmt.Sprintf("m%d", j), body))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := inst.(runtime.QueueConsumer).Queue(ctx, b)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Queue: %v, want error %q", err, tt.wantErr)
			}
			if fmt.Sprint(res.Messages) != fmt.Sprint(tt.want) {
				t.Errorf("outcomes %v, want %v", res.Messages, tt.want)
			}
		})
	}
	if e := l.find("orders m0 attempt 2 text ack"); e == nil || e.RequestID != "batch-0" {
		t.Errorf("the guest's line about m0 is not in the logs with the batch id: %+v", e)
	}
	if len(out.msgs) != 1 || string(out.msgs[0].Body) != "forwarded m1" {
		t.Errorf("forwarded %+v", out.msgs)
	}
}

func TestScheduledThroughTheABI(t *testing.T) {
	mod, l := loadModule(t, eventsModule(t), loadOpts{})
	inst := newInstance(t, mod)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		cron             string
		wantErr, noRetry bool
	}{
		{"*/5 * * * *", false, false},
		{"0 0 * * *", true, false},
		{"0 1 * * *", true, true},
	} {
		err := inst.(runtime.Scheduler).Scheduled(context.Background(), &runtime.ScheduledEvent{ID: "tick-" + tt.cron, Cron: tt.cron, ScheduledTime: at})
		var ge *runtime.Error
		if tt.wantErr != (err != nil) || (err != nil && (!errors.As(err, &ge) || ge.NoRetry != tt.noRetry || ge.Discard())) {
			t.Errorf("%s: %v (%+v), want error %v, no retry %v, instance kept", tt.cron, err, ge, tt.wantErr, tt.noRetry)
		}
		if e := l.find(fmt.Sprintf("tick %q %d", tt.cron, at.Unix())); e == nil {
			t.Errorf("%s: the guest did not see the tick", tt.cron)
		}
	}
}

func TestEventCallsOutsideAnEventAreRefused(t *testing.T) {
	// The guest module (HTTP only) reports it takes no events, and the
	// queue functions answer STATE outside a batch.
	mod, _ := loadModule(t, guestModule(t), loadOpts{})
	inst := newInstance(t, mod)
	if hs := inst.(runtime.HandlerSet); hs.Handles(runtime.EventQueue) || hs.Handles(runtime.EventScheduled) || !hs.Handles(runtime.EventFetch) {
		t.Fatal("an HTTP-only SDK module claims to take queue batches or cron ticks")
	}
	r := inst.(*reactor)
	for name, call := range map[string]func() int32{
		"queue_ack":          func() int32 { return r.queueAck(nil, []uint32{0}) },
		"queue_ack_all":      func() int32 { return r.queueAckAll(nil, nil) },
		"scheduled_no_retry": func() int32 { return r.scheduledNoRetry(nil, nil) },
	} {
		if rc := call(); rc != codeState || !contains(r.errMsg, name) {
			t.Errorf("%s outside an event: %d %q, want STATE naming the call", name, rc, r.errMsg)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// FuzzEventHostFunctions calls the event host functions with a batch and a
// tick in flight and hostile pointers, indexes and delays: any code or a
// trap, never another panic, and a decision only on a message that exists.
//
//	go test ./internal/runtime/wasm -run XXX -fuzz FuzzEventHostFunctions
func FuzzEventHostFunctions(f *testing.F) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	inst, err := rt.Instantiate(ctx, memoryModule)
	if err != nil {
		f.Fatal(err)
	}
	names := []string{"queue_batch", "queue_ack", "queue_retry", "queue_ack_all", "queue_retry_all", "scheduled_info", "scheduled_no_retry"}
	for i := range names {
		f.Add(uint8(i), seedParams(0, 16))
		f.Add(uint8(i), seedParams(2, 43200))
		f.Add(uint8(i), seedParams(0xffffffff, 0xffffffff))
		f.Add(uint8(i), seedParams(65535, 65536))
	}
	f.Fuzz(func(t *testing.T, which uint8, params []byte) {
		name := names[int(which)%len(names)]
		hf := hostFuncs[name]
		p := make([]uint32, hf.params)
		for i := range p {
			if len(params) >= 4 {
				p[i] = binary.LittleEndian.Uint32(params)
				params = params[4:]
			}
		}
		r := &reactor{mod: &module{spec: runtime.Spec{Service: "svc", Manifest: &manifest.Manifest{Name: "svc"}}}, ctx: t.Context()}
		r.events.batch = &runtime.QueueBatch{ID: "b", Queue: "q", Messages: []runtime.QueueMessage{{ID: "m0", Body: []byte("x")}, {ID: "m1"}}}
		r.events.decisions = make([]decision, 2)
		r.events.tick = &runtime.ScheduledEvent{ID: "t", Cron: "* * * * *", ScheduledTime: time.Unix(0, 0)}
		var rc int32
		func() {
			defer func() {
				if v := recover(); v != nil {
					if _, ok := v.(*trapError); !ok {
						t.Fatalf("%s%v panicked with %T: %v", name, p, v, v)
					}
					rc = 1 << 30
				}
			}()
			rc = hf.fn(r, inst, p)
		}()
		if rc < 0 && rc != 1<<30 && r.errMsg == "" {
			t.Fatalf("%s%v returned %d without a message", name, p, rc)
		}
		for i, d := range r.events.decisions {
			if d.set && (d.delay < 0 || d.delay > maxDelaySeconds) {
				t.Fatalf("%s%v: message %d got delay %d", name, p, i, d.delay)
			}
		}
		if (name == "queue_ack" || name == "queue_retry") && rc == codeOK && int(p[0]) >= len(r.events.decisions) {
			t.Fatalf("%s%v accepted a message that is not in the batch", name, p)
		}
	})
}
