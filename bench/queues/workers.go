package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

// workers is the whole path: an HTTP request makes the producer worker
// send, the consumer worker's queue(batch) handler receives. The consumer
// logs one line per batch (console.log, timed by the node when written),
// which is how the driver sees it.
type workers struct {
	dir    string
	n      *node.Node
	gw     string
	seen   atomic.Int64
	first  chan time.Time
	cancel func()
}

const producerWorker = `export default { async fetch(req, env) {
  const u = new URL(req.url);
  const n = Number(u.searchParams.get("n")), b = Number(u.searchParams.get("batch"));
  for (let i = 0; i < n; i += b) {
    if (b === 1) await env.Q.send({ i });
    else await env.Q.sendBatch(Array.from({ length: b }, (_, k) => ({ body: { i: i + k } })));
  }
  return new Response("sent " + n);
} }`

const consumerWorker = `export default {
  fetch() { return new Response("consumer") },
  async queue(batch) { console.log("batch " + batch.messages.length); },
}`

func newWorkers(batch int) (target, error) {
	dir, err := os.MkdirTemp("", "wisp-bench-workers-")
	if err != nil {
		return nil, err
	}
	n := node.New(node.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", Admin: "127.0.0.1:0"})
	if err := n.Start(context.Background()); err != nil {
		return nil, err
	}
	w := &workers{dir: dir, n: n, gw: "http://" + n.GatewayAddr(), first: make(chan time.Time, 1)}
	ch, cancel := n.LogHub().Subscribe(func(e logs.Entry) bool { return e.Service == "consumer" && strings.HasPrefix(e.Message, "batch ") }, 1<<16)
	w.cancel = cancel
	go func() {
		for e := range ch {
			select {
			case w.first <- e.Time:
			default:
			}
			k, _ := strconv.Atoi(strings.TrimPrefix(e.Message, "batch "))
			w.seen.Add(int64(k))
		}
	}()
	c := client.New(n.AdminURL(), n.Token())
	for name, files := range map[string]map[string]string{
		"producer": {"wisp.toml": "name = \"producer\"\nmain = \"index.js\"\nroutes = [\"/send\"]\n[limits]\ntimeout_ms = 600000\n[[queues.producers]]\nbinding = \"Q\"\nqueue = \"bench\"\n", "index.js": producerWorker},
		"consumer": {"wisp.toml": fmt.Sprintf("name = \"consumer\"\nmain = \"index.js\"\n[[queues.consumers]]\nqueue = \"bench\"\nmax_batch_size = %d\nmax_batch_timeout = 1\nmax_concurrency = 1\n", batch), "index.js": consumerWorker},
	} {
		sdir := filepath.Join(dir, name)
		for f, src := range files {
			if err := os.MkdirAll(sdir, 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(sdir, f), []byte(src), 0o644); err != nil {
				return nil, err
			}
		}
		s, err := project.Load(sdir)
		if err != nil {
			return nil, err
		}
		code, err := s.Build(context.Background(), io.Discard)
		if err != nil {
			return nil, err
		}
		if _, err := c.Deploy(context.Background(), name, s.ManifestPath, s.Source, code); err != nil {
			w.close()
			return nil, fmt.Errorf("deploy %s worker: %w", name, err)
		}
	}
	return w, nil
}

func (w *workers) name() string { return "workers" }

func (w *workers) send(ctx context.Context, n, batch int) error {
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/send?n=%d&batch=%d", w.gw, n, batch), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("producer answered %d: %s", resp.StatusCode, b)
	}
	return nil
}

func (w *workers) throughput(ctx context.Context, n, batch int) (time.Duration, error) {
	start, target := time.Now(), w.seen.Load()+int64(n)
	if err := w.send(ctx, n, batch); err != nil {
		return 0, err
	}
	return waitCount(&w.seen, target, start)
}

func (w *workers) latency(ctx context.Context, batch int) (time.Duration, error) {
	return timeFirst(ctx, w.first, func() error { return w.send(ctx, batch, batch) })
}

func (w *workers) close() {
	if w.cancel != nil {
		w.cancel()
	}
	_ = w.n.Shutdown(context.Background())
	os.RemoveAll(w.dir)
}
