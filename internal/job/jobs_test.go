package job_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/cron"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// services is a double of the node: each service is a function.
type services struct {
	mu        sync.Mutex
	fetch     map[string]func(attempt int, req *runtime.Request, w http.ResponseWriter) error
	calls     map[string]int
	scheduled []string
	schedErr  func(n int) error
}

func (s *services) Fetch(ctx context.Context, name string, req *runtime.Request, w http.ResponseWriter) error {
	s.mu.Lock()
	fn := s.fetch[name]
	s.calls[name]++
	n := s.calls[name]
	s.mu.Unlock()
	if fn == nil {
		return fmt.Errorf("%w: %s", job.ErrNoService, name)
	}
	return fn(n, req, w)
}

func (s *services) Scheduled(ctx context.Context, name string, ev *runtime.ScheduledEvent) error {
	s.mu.Lock()
	s.scheduled = append(s.scheduled, name+" "+ev.Cron+" "+ev.ScheduledTime.Format(time.RFC3339))
	n := len(s.scheduled)
	fn := s.schedErr
	s.mu.Unlock()
	if fn != nil {
		return fn(n)
	}
	return nil
}

func newJobs(t *testing.T, svc *services, allow ...string) *job.Jobs {
	t.Helper()
	j, _ := newJobsStore(t, svc, allow...)
	return j
}

func newJobsStore(t *testing.T, svc *services, allow ...string) (*job.Jobs, *store.Store) {
	t.Helper()
	st := storetest.Open(t)
	ctx := context.Background()
	q, err := queue.Open(ctx, st.JS, queue.Config{AckWait: time.Second, BackoffBase: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	al, err := job.ParseAllowlist(allow)
	if err != nil {
		t.Fatal(err)
	}
	if svc.calls == nil {
		svc.calls = map[string]int{}
	}
	j, err := job.Open(ctx, job.Config{Queues: q, JS: st.JS, Services: svc, Callbacks: al, MaxRetries: 2, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		j.Stop(ctx)
	})
	return j, st
}

// pendingJobs counts job messages stored: waiting, in flight or
// scheduled for a retry.
func pendingJobs(st *store.Store) (uint64, error) {
	s, err := st.JS.Stream(context.Background(), queue.StreamName)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter("wisp.>"))
	if err != nil {
		return 0, err
	}
	var n uint64
	for subj, c := range info.State.Subjects {
		if strings.HasPrefix(subj, "wisp.job") {
			n += c
		}
	}
	return n, nil
}

func request(body string) *runtime.Request {
	return &runtime.Request{Method: "POST", URL: "http://shop.test/api/report?day=1", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(body)}
}

func waitFor(t *testing.T, j *job.Jobs, id string, cond func(*job.Invocation) error) *job.Invocation {
	t.Helper()
	var inv *job.Invocation
	poll.CheckFor(t, 15*time.Second, 10*time.Millisecond, func() error {
		var err error
		if inv, err = j.Get(context.Background(), id); err != nil {
			return err
		}
		return cond(inv)
	})
	return inv
}

func status(want string) func(*job.Invocation) error {
	return func(inv *job.Invocation) error {
		if inv.Status != want {
			return fmt.Errorf("status %s (attempts %d, error %q), want %s", inv.Status, inv.Attempts, inv.Error, want)
		}
		return nil
	}
}

func TestAsyncInvocationCompletes(t *testing.T) {
	svc := &services{fetch: map[string]func(int, *runtime.Request, http.ResponseWriter) error{
		"reports": func(_ int, req *runtime.Request, w http.ResponseWriter) error {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"got":%q,"path":%q,"inv":%q}`, req.Body, req.URL, req.Header.Get("X-Wisp-Invocation-Id"))
			return nil
		},
	}}
	j := newJobs(t, svc)
	inv, err := j.Accept(context.Background(), "reports", request("hello"), "")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != job.StatusQueued || len(inv.ID) != 32 || inv.Path != "/api/report?day=1" || inv.Method != "POST" {
		t.Fatalf("accepted %+v", inv)
	}
	done := waitFor(t, j, inv.ID, status(job.StatusCompleted))
	want := fmt.Sprintf(`{"got":"hello","path":"http://shop.test/api/report?day=1","inv":%q}`, inv.ID)
	if done.Attempts != 1 || done.Response == nil || done.Response.Status != 201 || done.Response.Body != want || done.Response.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("outcome %+v response %+v, want 201 %s after 1 attempt", done, done.Response, want)
	}
}

// A service that fails N times is retried with backoff until it succeeds,
// or until max_retries is spent: then the invocation fails with the last
// error and the callback hears of it.
func TestAsyncInvocationRetriesAndFails(t *testing.T) {
	var mu sync.Mutex
	var posted []job.Invocation
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var inv job.Invocation
		if err := json.NewDecoder(r.Body).Decode(&inv); err != nil || r.Header.Get("X-Wisp-Invocation-Id") != inv.ID {
			http.Error(w, "bad callback", 400)
			return
		}
		mu.Lock()
		posted = append(posted, inv)
		mu.Unlock()
	}))
	defer cb.Close()
	svc := &services{fetch: map[string]func(int, *runtime.Request, http.ResponseWriter) error{
		"flaky": func(n int, req *runtime.Request, w http.ResponseWriter) error {
			if n <= 2 {
				return &runtime.Error{Kind: runtime.Exception, Message: fmt.Sprintf("Uncaught Error: attempt %d failed", n)}
			}
			io.WriteString(w, "ok at last")
			return nil
		},
		"broken": func(n int, req *runtime.Request, w http.ResponseWriter) error {
			w.WriteHeader(503)
			fmt.Fprintf(w, "down (%d)", n)
			return nil
		},
	}}
	j := newJobs(t, svc, "http://127.0.0.1:*")
	flaky, err := j.Accept(context.Background(), "flaky", request(""), cb.URL+"/done")
	if err != nil {
		t.Fatal(err)
	}
	broken, err := j.Accept(context.Background(), "broken", request(""), cb.URL+"/done")
	if err != nil {
		t.Fatal(err)
	}
	ok := waitFor(t, j, flaky.ID, status(job.StatusCompleted))
	if ok.Attempts != 3 || ok.Response.Body != "ok at last" || ok.Error != "" {
		t.Errorf("flaky: %+v, want completed on attempt 3", ok)
	}
	bad := waitFor(t, j, broken.ID, status(job.StatusFailed))
	if bad.Attempts != 3 || bad.Error != "the service answered 503" || bad.Response == nil || bad.Response.Body != "down (3)" {
		t.Errorf("broken: %+v (response %+v), want failed after 3 attempts (max_retries 2) with the last answer", bad, bad.Response)
	}
	for _, id := range []string{flaky.ID, broken.ID} {
		waitFor(t, j, id, func(inv *job.Invocation) error {
			if inv.Callback == nil || inv.Callback.Status != job.CallbackDelivered {
				return fmt.Errorf("callback %+v", inv.Callback)
			}
			return nil
		})
	}
	mu.Lock()
	defer mu.Unlock()
	got := map[string]string{}
	for _, p := range posted {
		got[p.Service] = p.Status
	}
	if len(posted) != 2 || got["flaky"] != job.StatusCompleted || got["broken"] != job.StatusFailed {
		t.Errorf("callbacks received %v, want flaky completed and broken failed", got)
	}
}

func TestCallbackRetried(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if hits < 3 {
			http.Error(w, "busy", 502)
		}
	}))
	defer cb.Close()
	svc := &services{fetch: map[string]func(int, *runtime.Request, http.ResponseWriter) error{
		"a": func(int, *runtime.Request, http.ResponseWriter) error { return nil },
	}}
	j := newJobs(t, svc, "http://127.0.0.1:*")
	inv, err := j.Accept(context.Background(), "a", request(""), cb.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, j, inv.ID, func(inv *job.Invocation) error {
		if inv.Callback.Status != job.CallbackDelivered {
			return fmt.Errorf("callback %+v", inv.Callback)
		}
		return nil
	})
	if got.Callback.Attempts != 3 {
		t.Errorf("callback delivered after %d attempts, want 3", got.Callback.Attempts)
	}
}

func TestAcceptRefusesBadInput(t *testing.T) {
	j := newJobs(t, &services{}, "https://hooks.example.com")
	big := request(strings.Repeat("x", job.MaxRequestBytes+1))
	tests := []struct {
		name     string
		req      *runtime.Request
		callback string
		want     error
		wantText string
	}{
		{"body too large", big, "", job.ErrTooLarge, "262145 bytes; at most 262144"},
		{"callback not allowed", request(""), "https://evil.example.com/x", job.ErrCallbackNotAllowed, "https://evil.example.com is not on this node's callback allowlist"},
		{"callback not a URL", request(""), "hooks.example.com", job.ErrCallbackNotAllowed, "is not an absolute http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := j.Accept(context.Background(), "a", tt.req, tt.callback)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Accept: %v, want %v containing %q", err, tt.want, tt.wantText)
			}
		})
	}
	if _, err := j.Get(context.Background(), "nope"); !errors.Is(err, job.ErrNotFound) {
		t.Errorf("Get(bad id) = %v, want ErrNotFound", err)
	}
	if _, err := j.Get(context.Background(), strings.Repeat("ab", 16)); !errors.Is(err, job.ErrNotFound) {
		t.Errorf("Get(unknown id) = %v, want ErrNotFound", err)
	}
}

func TestInvocationOfMissingServiceFailsAtOnce(t *testing.T) {
	svc := &services{fetch: map[string]func(int, *runtime.Request, http.ResponseWriter) error{}}
	j := newJobs(t, svc)
	inv, err := j.Accept(context.Background(), "gone", request(""), "")
	if err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, j, inv.ID, status(job.StatusFailed))
	if got.Attempts != 1 || !strings.Contains(got.Error, "service does not exist") {
		t.Errorf("%+v, want failed after 1 attempt naming the missing service", got)
	}
}

func TestCronTicksRunOnceAndRetry(t *testing.T) {
	svc := &services{}
	var mu sync.Mutex
	svc.schedErr = func(n int) error {
		mu.Lock()
		defer mu.Unlock()
		switch n {
		case 2: // the second tick fails once, then succeeds
			return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught Error: db down"}
		case 4: // the third tick fails and asks not to be retried
			return &runtime.Error{Kind: runtime.Exception, Message: "Uncaught Error: give up", NoRetry: true}
		}
		return nil
	}
	j, st := newJobsStore(t, svc)
	ctx := context.Background()
	t1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ticks := []cron.Tick{
		{Service: "reports", Cron: "* * * * *", Time: t1},
		{Service: "reports", Cron: "* * * * *", Time: t1}, // handed on twice (two nodes): runs once
		{Service: "reports", Cron: "* * * * *", Time: t1.Add(time.Minute)},
	}
	for _, tk := range ticks {
		if err := j.FireCron(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		if len(svc.scheduled) != 3 {
			return fmt.Errorf("scheduled runs %q", svc.scheduled)
		}
		return nil
	})
	if err := j.FireCron(ctx, cron.Tick{Service: "reports", Cron: "0 * * * *", Time: t1.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		if len(svc.scheduled) != 4 {
			return fmt.Errorf("scheduled runs %q", svc.scheduled)
		}
		return nil
	})
	// The tick that asked for no retry leaves nothing behind.
	poll.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, err := pendingJobs(st); err != nil || n != 0 {
			return fmt.Errorf("%d jobs pending (%v)", n, err)
		}
		return nil
	})
	svc.mu.Lock()
	defer svc.mu.Unlock()
	want := []string{"reports * * * * * 2026-03-01T10:00:00Z", "reports * * * * * 2026-03-01T10:01:00Z", "reports * * * * * 2026-03-01T10:01:00Z", "reports 0 * * * * 2026-03-01T11:00:00Z"}
	if fmt.Sprint(svc.scheduled) != fmt.Sprint(want) {
		t.Errorf("scheduled runs\n%q\nwant\n%q", svc.scheduled, want)
	}
}
