package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

// target is one URL to load; baseline targets are what the others of the
// same workload are divided by.
type target struct {
	name, workload, url string
	baseline            bool
	pid                 int // the server process, whose CPU time is read around each run (0: not read)
}

// peer starts a server and returns what it serves. It registers what it
// started with env.cleanup.
type peer func(ctx context.Context, e *env) ([]target, error)

// errSkip marks a peer that cannot run on this machine or branch.
var errSkip = errors.New("skipped")

func skipf(format string, args ...any) error {
	return fmt.Errorf("%s (%w)", fmt.Sprintf(format, args...), errSkip)
}

func isSkip(err error) bool { return errors.Is(err, errSkip) }

// env is the work directory, the wisp binary and what must be stopped.
type env struct {
	work, wispBin, self string
	cleanups            []func()
}

func newEnv() (*env, error) {
	work, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{work: work, wispBin: filepath.Join(work, "wisp")}
	fmt.Fprintln(os.Stderr, "building wisp…")
	if out, err := exec.Command("go", "build", "-o", e.wispBin, "./cmd/wisp").CombinedOutput(); err != nil {
		os.RemoveAll(work)
		return nil, fmt.Errorf("build wisp (run from the repository root): %v\n%s", err, out)
	}
	if e.self, err = os.Executable(); err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	return e, nil
}

func (e *env) cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

func (e *env) close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	os.RemoveAll(e.work)
}

// wispNode is a running `wisp serve` process.
type wispNode struct {
	cmd     *exec.Cmd
	gateway string
	data    string
	started time.Duration // from exec to the gateway accepting requests
	execAt  time.Time     // when it was started
	admin   string        // the admin API's base URL
	client  *client.Client
}

// startWisp runs `wisp serve` on data with extra flags.
func (e *env) startWisp(data string, flags ...string) (*wispNode, error) {
	args := append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, flags...)
	t0 := time.Now()
	cmd, addr, err := startServer(e.wispBin, args...)
	if err != nil {
		return nil, err
	}
	n := &wispNode{cmd: cmd, gateway: addr, data: data, started: time.Since(t0), execAt: t0}
	url, err := os.ReadFile(filepath.Join(data, node.URLFile))
	if err != nil {
		stopServer(cmd)
		return nil, err
	}
	token, err := os.ReadFile(filepath.Join(data, node.TokenFile))
	if err != nil {
		stopServer(cmd)
		return nil, err
	}
	n.admin = strings.TrimSpace(string(url))
	n.client = client.New(n.admin, strings.TrimSpace(string(token)))
	return n, nil
}

func (n *wispNode) stop() { stopServer(n.cmd) }

func (n *wispNode) pid() int { return n.cmd.Process.Pid }

// rss is the node's resident set size in bytes (Linux).
func (n *wispNode) rss() (int64, error) { return rssOf(n.cmd.Process.Pid) }

func rssOf(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// service is a service folder to deploy.
type service struct {
	name, toml string
	files      map[string]string
}

// write creates the service's folder under dir.
func (s service) write(dir string) (string, error) {
	d := filepath.Join(dir, s.name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d, "wisp.toml"), []byte(s.toml), 0o644); err != nil {
		return "", err
	}
	for name, src := range s.files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(src), 0o644); err != nil {
			return "", err
		}
	}
	return d, nil
}

// build writes and builds a service (runs [build], bundles).
func (e *env) build(s service) (*project.Service, []byte, error) {
	d, err := s.write(filepath.Join(e.work, "svc"))
	if err != nil {
		return nil, nil, err
	}
	p, err := project.Load(d)
	if err != nil {
		return nil, nil, err
	}
	code, err := p.Build(context.Background(), io.Discard)
	if err != nil {
		return nil, nil, fmt.Errorf("build %s: %w", s.name, err)
	}
	return p, code, nil
}

// deploy builds and deploys a service to n.
func (e *env) deploy(n *wispNode, s service) error {
	p, code, err := e.build(s)
	if err != nil {
		return err
	}
	_, err = n.client.Deploy(context.Background(), p.Manifest.Name, p.ManifestPath, p.Source, code)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", s.name, err)
	}
	return nil
}

// serverLogs numbers the stderr files of WISP_BENCH_STDERR.
var serverLogs int

var addrRe = regexp.MustCompile(`gateway\s+http://(\S+)`)

func startServer(bin string, args ...string) (*exec.Cmd, string, error) {
	// Diagnostics: the servers under `nice -n N` and/or `taskset -c LIST`.
	var wrap []string
	if n := os.Getenv("WISP_BENCH_SERVER_NICE"); n != "" {
		wrap = append(wrap, "nice", "-n", n)
	}
	if cpus := os.Getenv("WISP_BENCH_SERVER_CPUS"); cpus != "" {
		wrap = append(wrap, "taskset", "-c", cpus)
	}
	argv := append(append(wrap, bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if extra := os.Getenv("WISP_BENCH_SERVER_ENV"); extra != "" {
		// Diagnostics: environment for the servers only (e.g.
		// GOMAXPROCS=4 GODEBUG=gctrace=1), not for the load generator.
		cmd.Env = append(os.Environ(), strings.Fields(extra)...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = io.Discard
	var logf *os.File
	if dir := os.Getenv("WISP_BENCH_STDERR"); dir != "" {
		// Diagnostics: keep each server's stderr (e.g. with
		// GODEBUG=gctrace=1) in DIR/<n>-<binary>.log.
		serverLogs++
		if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d-%s.log", serverLogs, filepath.Base(bin)))); err == nil {
			cmd.Stderr, logf = f, f
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	if logf != nil {
		logf.Close() // the child has its own copy
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
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, "", fmt.Errorf("%s did not start", bin)
	}
}

// stopServer stops a server with SIGTERM (a node drains and exits; the
// raw servers take the default action) and kills it after 15 s. Not
// SIGINT: a bench started as a background job of a shell inherits SIGINT
// ignored, and so would the raw servers, each then costing the 15 s.
func stopServer(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// rawPeer is the ceiling: the same answers as the workers, from Go.
func rawPeer(_ context.Context, e *env) ([]target, error) {
	cmd, addr, err := startServer(e.self, "-serve-raw", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.cleanup(func() { stopServer(cmd) })
	return []target{
		{name: "raw net/http hello", workload: "hello", url: "http://" + addr + "/hello", baseline: true, pid: cmd.Process.Pid},
		{name: "raw net/http json", workload: "json", url: "http://" + addr + "/json?q=1", baseline: true, pid: cmd.Process.Pid},
	}, nil
}

func rawServer(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", rawHello)
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"q":%q,"ua":%q}`, r.URL.Path, r.URL.Query().Get("q"), r.UserAgent())
	})
	serveAnnounced(addr, mux)
}

// rawHello answers what the hello workers answer.
func rawHello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	io.WriteString(w, "Hello, world!")
}

// serveAnnounced serves h on addr after printing the address the way
// startServer looks for it; a server that cannot listen exits.
func serveAnnounced(addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("gateway http://%s\n", ln.Addr())
	_ = http.Serve(ln, h)
}

const helloWorker = `export default { fetch() { return new Response('Hello, world!') } }`
const jsonWorker = `export default { async fetch(req) {
  const u = new URL(req.url);
  return Response.json({ path: u.pathname, q: u.searchParams.get('q'), ua: req.headers.get('user-agent') });
} }`

func jsService(name, route, src string, limits string) service {
	return service{
		name:  name,
		toml:  fmt.Sprintf("name = %q\nmain = \"index.js\"\nroutes = [%q]\n[limits]\n%s\n", name, route, limits),
		files: map[string]string{"index.js": src},
	}
}

// wispJSPeer is a wisp node serving the hello and JSON workers.
func wispJSPeer(_ context.Context, e *env) ([]target, error) {
	n, err := e.startWisp(filepath.Join(e.work, "data-throughput"))
	if err != nil {
		return nil, err
	}
	e.cleanup(n.stop)
	lim := fmt.Sprintf("max_instances = %d", runtime.NumCPU()*2)
	for _, s := range []service{jsService("hello", "/hello", helloWorker, lim), jsService("json", "/json", jsonWorker, lim)} {
		if err := e.deploy(n, s); err != nil {
			return nil, err
		}
	}
	return []target{
		{name: "wisp JS hello", workload: "hello", url: "http://" + n.gateway + "/hello", pid: n.pid()},
		{name: "wisp JS json", workload: "json", url: "http://" + n.gateway + "/json?q=1", pid: n.pid()},
	}, nil
}

// machine describes the CPU for the results header.
func machine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOOS
}

// parallel runs f for 0..n-1 on k goroutines and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	var mu sync.Mutex
	var first error
	next := make(chan int)
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
