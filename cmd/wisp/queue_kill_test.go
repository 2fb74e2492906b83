package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestQueueSurvivesKillNine runs a producer worker and a consumer worker
// on the real binary, kills it with SIGKILL while batches are being
// consumed, restarts it, and checks that every send the producer
// acknowledged was handled: nothing lost, duplicates counted.
func TestQueueSurvivesKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: skipped in -short mode")
	}
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"WISP_DATA=" + data}
	serveArgs := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}
	p, gw := start(t, work, serveArgs...)
	writeTree(t, filepath.Join(work, "svc", "producer"), map[string]string{
		"wisp.toml": "name = \"producer\"\nmain = \"index.js\"\nroutes = [\"/send\"]\n[[queues.producers]]\nbinding = \"WORK\"\nqueue = \"work\"\n",
		"index.js": `export default { async fetch(req, env) {
  const u = new URL(req.url), from = Number(u.searchParams.get("from")), n = Number(u.searchParams.get("n"));
  await env.WORK.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { k: from + i } })));
  return new Response("sent");
} }`,
	})
	writeTree(t, filepath.Join(work, "svc", "consumer"), map[string]string{
		"wisp.toml": "name = \"consumer\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"work\"\nmax_batch_size = 10\nmax_batch_timeout = 1\nmax_concurrency = 2\n[[queues.producers]]\nbinding = \"DONE\"\nqueue = \"done\"\n",
		"index.js": `export default { async queue(batch, env) {
  for (const m of batch.messages) {
    await env.DONE.send({ k: m.body.k, attempts: m.attempts });
    await new Promise(r => setTimeout(r, 10));
  }
} }`,
	})
	if out, code := wisp(t, work, env, "deploy", filepath.Join(work, "svc")); code != 0 {
		t.Fatalf("deploy: %s", out)
	}
	acked := map[int]bool{}
	next := 0
	sendBatch := func(gw string) error {
		resp, err := http.Post(fmt.Sprintf("http://%s/send?from=%d&n=10", gw, next), "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("producer answered %d", resp.StatusCode)
		}
		for i := next; i < next+10; i++ {
			acked[i] = true
		}
		next += 10
		return nil
	}
	for next < 300 {
		if err := sendBatch(gw); err != nil {
			t.Fatal(err)
		}
	}
	// Keep sending while the consumer works, and kill mid-stream.
	killed := make(chan struct{})
	go func() {
		time.Sleep(700 * time.Millisecond)
		_ = p.stop(t, syscall.SIGKILL)
		close(killed)
	}()
	for sending := true; sending; {
		select {
		case <-killed:
			sending = false
		case <-time.After(20 * time.Millisecond): // paced: the done queue stays under one peek
			if err := sendBatch(gw); err != nil {
				sending = false // the kill: this batch's fate is unknown
			}
		}
	}
	<-killed
	start(t, work, serveArgs...)
	checkFor(t, 90*time.Second, 200*time.Millisecond, func() error {
		out, code := wisp(t, work, env, "queue", "ls", "--json")
		var qs []struct {
			Name                        string
			Messages, InFlight, Delayed int
		}
		if err := json.Unmarshal([]byte(out), &qs); err != nil || code != 0 {
			return fmt.Errorf("queue ls: %v %s", err, out)
		}
		for _, q := range qs {
			if q.Name == "work" && (q.Messages > 0 || q.InFlight > 0 || q.Delayed > 0) {
				return fmt.Errorf("work queue not drained: %+v", q)
			}
		}
		return nil
	})
	handled := map[int]int{}
	out, code := wisp(t, work, env, "queue", "peek", "done", "-n", "1000", "--json")
	var done []struct{ Body string }
	if err := json.Unmarshal([]byte(out), &done); err != nil || code != 0 {
		t.Fatalf("peek done: %v %s", err, out)
	}
	for _, d := range done {
		var b struct{ K int }
		if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
			t.Fatal(err)
		}
		handled[b.K]++
	}
	lost, dups := 0, 0
	for k := range acked {
		if handled[k] == 0 {
			lost++
		}
	}
	for _, n := range handled {
		dups += n - 1
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged sends were never handled", lost, len(acked))
	}
	t.Logf("%d acknowledged sends all handled after kill -9 and restart; %d duplicates (at least once)", len(acked), dups)
}
