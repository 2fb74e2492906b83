package queue_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/store"
)

// The crash test runs a producer and a consumer in a child process (this
// test binary, re-executed) that owns an embedded JetStream, kills it
// with SIGKILL while a batch is being handled, restarts it on the same
// data, and checks that every acknowledged send was handled.
const crashHelperEnv = "WISP_QUEUE_CRASH_HELPER"

const stuckBatch = 15 // the batch the first child never finishes

func TestKillNineMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: skipped in -short mode")
	}
	dir := t.TempDir()
	first := startHelper(t, dir, "produce")
	poll.CheckFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		if _, err := os.Stat(filepath.Join(dir, "stuck")); err != nil {
			return fmt.Errorf("no batch stuck yet")
		}
		if n := len(readLines(t, filepath.Join(dir, "sent.log"))); n < 1000 {
			return fmt.Errorf("%d sends acknowledged so far", n)
		}
		return nil
	})
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	sent := readLines(t, filepath.Join(dir, "sent.log"))
	handledBefore := len(readLines(t, filepath.Join(dir, "handled.log")))

	second := startHelper(t, dir, "drain")
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("restarted consumer: %v", err)
		}
	case <-time.After(90 * time.Second):
		_ = second.Process.Kill()
		t.Fatal("restarted consumer did not drain the queue within 90s")
	}

	handled := map[string][]int{} // body → attempts of each delivery
	for _, line := range readLines(t, filepath.Join(dir, "handled.log")) {
		body, att, _ := strings.Cut(line, " ")
		n, _ := strconv.Atoi(att)
		handled[body] = append(handled[body], n)
	}
	lost, dups := 0, 0
	for _, body := range sent {
		if len(handled[body]) == 0 {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged send %s was never handled", body)
			}
		}
	}
	// A duplicate is a redelivery of a message whose acknowledgement did
	// not reach the disk before the kill. JetStream writes consumer state
	// lazily, so a redelivery after a crash may count its attempts afresh.
	for _, atts := range handled {
		dups += len(atts) - 1
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged sends lost", lost, len(sent))
	}
	t.Logf("%d acknowledged sends, %d handled before the kill, all handled after restart; %d duplicates (redeliveries of the batch cut short and of unacknowledged acks)", len(sent), handledBefore, dups)
	if dups == 0 {
		t.Errorf("no message of the stuck batch was redelivered: the kill did not land mid-batch")
	}
}

func startHelper(t *testing.T, dir, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+mode+":"+dir)
	out, err := os.Create(filepath.Join(dir, "helper-"+mode+".out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// appender writes lines to a file with one write each: a process killed
// with SIGKILL loses none that write() accepted.
type appender struct {
	mu sync.Mutex
	f  *os.File
}

func (a *appender) line(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.WriteString(s + "\n"); err != nil {
		panic(err)
	}
}

// TestCrashHelper is the child process of TestKillNineMidBatchLosesNothing.
func TestCrashHelper(t *testing.T) {
	env := os.Getenv(crashHelperEnv)
	if env == "" {
		t.Skip("helper process of TestKillNineMidBatchLosesNothing; runs only when it starts it")
	}
	mode, dir, _ := strings.Cut(env, ":")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := openQueues(t, st)
	open := func(name string) *appender {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return &appender{f: f}
	}
	handled, sentLog := open("handled.log"), open("sent.log")
	var mu sync.Mutex
	batches := 0
	handler := func(ctx context.Context, b *queue.Batch) ([]queue.Decision, error) {
		for _, m := range b.Messages {
			handled.line(fmt.Sprintf("%s %d", m.Body, m.Attempts))
		}
		mu.Lock()
		batches++
		n := batches
		mu.Unlock()
		if mode == "produce" && n == stuckBatch {
			if err := os.WriteFile(filepath.Join(dir, "stuck"), nil, 0o644); err != nil {
				t.Error(err)
			}
			select {} // never finishes: the parent kills this process now
		}
		time.Sleep(2 * time.Millisecond)
		return nil, nil
	}
	r, err := q.Start(ctx, queue.Consumer{Name: queue.ConsumerName("crash"), Queue: "crash", Subject: queue.QueueSubject("crash"),
		Policy: queue.Policy{MaxBatchSize: 10, MaxBatchTimeout: 20 * time.Millisecond, MaxConcurrency: 3}, Handler: handler})
	if err != nil {
		t.Fatal(err)
	}
	if mode == "produce" {
		for k := 0; ; k += 10 {
			var msgs []binding.Message
			for i := k; i < k+10; i++ {
				msgs = append(msgs, binding.Message{Body: []byte("m-" + strconv.Itoa(i)), ContentType: "text"})
			}
			if _, err := q.Send(ctx, "crash", msgs, 0); err != nil {
				t.Logf("send: %v", err)
				continue
			}
			for _, m := range msgs {
				sentLog.line(string(m.Body))
			}
		}
	}
	// Drain: wait until nothing is left, then stop.
	poll.CheckFor(t, 80*time.Second, 20*time.Millisecond, emptyQueue(q, "crash"))
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r.Stop(stop)
}
