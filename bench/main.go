// Command bench measures wisp's HTTP hot path (gateway → dispatch →
// instance → response) side by side with a raw Go net/http handler, in one
// run on one machine, and prints requests per second, per-request latency
// percentiles and the ratio to the raw handler.
//
//	go run ./bench                     # 10 s per target, 32 connections
//	go run ./bench -duration 30s -connections 64
//
// Every server runs in its own process; the load generator is this one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	serveRaw := flag.String("serve-raw", "", "internal: serve the raw net/http baseline on this address")
	duration := flag.Duration("duration", 10*time.Second, "load duration per target")
	warmup := flag.Duration("warmup", 2*time.Second, "warm-up before each measurement")
	conns := flag.Int("connections", 32, "concurrent connections")
	flag.Parse()
	if *serveRaw != "" {
		rawServer(*serveRaw)
		return
	}
	if err := run(*duration, *warmup, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// rawServer is the ceiling: the same answers as the workers, from Go.
func rawServer(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		io.WriteString(w, "Hello, world!")
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"q":%q,"ua":%q}`, r.URL.Path, r.URL.Query().Get("q"), r.UserAgent())
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("gateway http://%s\n", ln.Addr())
	_ = http.Serve(ln, mux)
}

const helloWorker = `export default { fetch() { return new Response('Hello, world!') } }`
const jsonWorker = `export default { async fetch(req) {
  const u = new URL(req.url);
  return Response.json({ path: u.pathname, q: u.searchParams.get('q'), ua: req.headers.get('user-agent') });
} }`

type target struct {
	name, url string
}

func run(duration, warmup time.Duration, conns int) error {
	work, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	wispBin := filepath.Join(work, "wisp")
	fmt.Fprintln(os.Stderr, "building wisp…")
	if out, err := exec.Command("go", "build", "-o", wispBin, "./cmd/wisp").CombinedOutput(); err != nil {
		return fmt.Errorf("build wisp (run from the repository root): %v\n%s", err, out)
	}
	for name, src := range map[string]string{"hello": helloWorker, "json": jsonWorker} {
		dir := filepath.Join(work, "svc", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		toml := fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [\"/%s\"]\n[limits]\nmax_instances = %d\n", name, name, runtime.NumCPU()*2)
		if err := os.WriteFile(filepath.Join(dir, "wisp.toml"), []byte(toml), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	raw, rawAddr, err := startServer(self, "-serve-raw", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stopServer(raw)
	data := filepath.Join(work, "data")
	node, wispAddr, err := startServer(wispBin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stopServer(node)
	deploy := exec.Command(wispBin, "deploy", filepath.Join(work, "svc"))
	deploy.Env = append(os.Environ(), "WISP_DATA="+data)
	if out, err := deploy.CombinedOutput(); err != nil {
		return fmt.Errorf("deploy: %v\n%s", err, out)
	}
	targets := []target{
		{"raw net/http hello", "http://" + rawAddr + "/hello"},
		{"wisp JS hello", "http://" + wispAddr + "/hello"},
		{"raw net/http json", "http://" + rawAddr + "/json?q=1"},
		{"wisp JS json", "http://" + wispAddr + "/json?q=1"},
	}
	fmt.Printf("# %d connections, %s per target after %s warm-up, %d CPUs, %s\n", conns, duration, warmup, runtime.NumCPU(), runtime.Version())
	fmt.Printf("%-22s %10s %9s %9s %9s %8s\n", "target", "req/s", "p50", "p99", "p99.9", "vs raw")
	var rawRPS float64
	for _, tg := range targets {
		load(tg.url, conns, warmup)
		r := load(tg.url, conns, duration)
		if r.errors > 0 {
			return fmt.Errorf("%s: %d failed requests (first: %v)", tg.name, r.errors, r.firstErr)
		}
		ratio := ""
		if strings.HasPrefix(tg.name, "raw") {
			rawRPS = r.rps
		} else if rawRPS > 0 {
			ratio = fmt.Sprintf("%.2f×", r.rps/rawRPS)
		}
		fmt.Printf("%-22s %10.0f %9s %9s %9s %8s\n", tg.name, r.rps, r.pct(50), r.pct(99), r.pct(99.9), ratio)
	}
	return nil
}

var addrRe = regexp.MustCompile(`gateway\s+http://(\S+)`)

func startServer(bin string, args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var acc strings.Builder
		for {
			n, err := out.Read(buf)
			acc.Write(buf[:n])
			if m := addrRe.FindStringSubmatch(acc.String()); m != nil {
				found <- m[1]
				_, _ = io.Copy(io.Discard, out)
				return
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, "", fmt.Errorf("%s did not start", bin)
	}
}

func stopServer(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
	}
}

type result struct {
	rps       float64
	latencies []time.Duration
	errors    int64
	firstErr  error
}

func (r *result) pct(p float64) string {
	if len(r.latencies) == 0 {
		return "-"
	}
	i := int(float64(len(r.latencies)-1) * p / 100)
	return r.latencies[i].Round(time.Microsecond).String()
}

// load drives url from conns keep-alive connections for d, timing every
// request (no coordinated-omission correction: each latency is one real
// request's).
func load(url string, conns int, d time.Duration) *result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	res := &result{}
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("User-Agent", "wisp-bench")
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					mu.Lock()
					if res.firstErr == nil {
						res.firstErr = err
					}
					res.errors++
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.rps = float64(count.Load()) / time.Since(start).Seconds()
	slices.Sort(res.latencies)
	return res
}
