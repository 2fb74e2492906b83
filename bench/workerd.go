package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// workerdVersion is the npm version of workerd the suite installs when
// none is found (WISP_BENCH_WORKERD, then PATH).
const workerdVersion = "1.20261117.1"

// workerdPeer runs Cloudflare's workerd with the same hello and JSON
// workers as wisp, each on its own socket: the peer for JS workers.
func workerdPeer(ctx context.Context, e *env) ([]target, error) {
	bin, err := findWorkerd(ctx)
	if err != nil {
		return nil, skipf("workerd: %v", err)
	}
	dir := filepath.Join(e.work, "workerd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	files := map[string]string{"hello.js": helloWorker, "json.js": jsonWorker, "config.capnp": workerdConfig(ports[0], ports[1])}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "serve", "config.capnp")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start workerd: %w", err)
	}
	e.cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	hello := fmt.Sprintf("http://127.0.0.1:%d/hello", ports[0])
	if err := waitHTTP(hello, 30*time.Second); err != nil {
		return nil, fmt.Errorf("workerd: %w", err)
	}
	return []target{
		{name: "workerd hello", workload: "hello", url: hello, pid: cmd.Process.Pid},
		{name: "workerd json", workload: "json", url: fmt.Sprintf("http://127.0.0.1:%d/json?q=1", ports[1]), pid: cmd.Process.Pid},
	}, nil
}

func workerdConfig(helloPort, jsonPort int) string {
	return fmt.Sprintf(`using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "hello", worker = .hello),
    (name = "json", worker = .json),
  ],
  sockets = [
    (name = "hello", address = "127.0.0.1:%d", http = (), service = "hello"),
    (name = "json", address = "127.0.0.1:%d", http = (), service = "json"),
  ],
);

const hello :Workerd.Worker = (
  modules = [(name = "hello.js", esModule = embed "hello.js")],
  compatibilityDate = "2024-09-23",
);

const json :Workerd.Worker = (
  modules = [(name = "json.js", esModule = embed "json.js")],
  compatibilityDate = "2024-09-23",
);
`, helloPort, jsonPort)
}

// findWorkerd looks for a workerd binary: $WISP_BENCH_WORKERD, PATH, then
// the suite's npm cache, installing workerd there from npm when needed.
func findWorkerd(ctx context.Context) (string, error) {
	if p := os.Getenv("WISP_BENCH_WORKERD"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("workerd"); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(cache, "wisp-bench", "workerd-"+workerdVersion)
	bin := filepath.Join(prefix, "node_modules", ".bin", "workerd")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("not on PATH, WISP_BENCH_WORKERD unset, and no npm to install it")
	}
	fmt.Fprintf(os.Stderr, "installing workerd %s from npm into %s…\n", workerdVersion, prefix)
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return "", err
	}
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, "workerd@"+workerdVersion)
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install workerd@%s: %v\n%s", workerdVersion, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("npm installed workerd but %s is missing", bin)
	}
	return bin, nil
}

// freePorts finds n free loopback ports (closed again before returning;
// workerd binds them itself).
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitHTTP polls url until it answers 200.
func waitHTTP(url string, total time.Duration) error {
	deadline := time.Now().Add(total)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %v", url, total, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
