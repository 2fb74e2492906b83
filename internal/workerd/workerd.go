// Package workerd runs Cloudflare's workerd (installed from npm as
// @cloudflare/workerd-linux-64) next to wisp: the differential tests record
// what it answers, and the benchmark measures it as the peer. It writes a
// Cap'n Proto config for a set of module workers, each on its own socket,
// starts the process and stops it.
package workerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// EnvBinary names the variable that points at the workerd binary.
const EnvBinary = "WISP_WORKERD"

// Binary returns the workerd binary named by $WISP_WORKERD, or the one
// npm installed under dir/node_modules when dir is not empty.
func Binary(dir string) (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	if dir != "" {
		p := filepath.Join(dir, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: set %s to its binary (npm install @cloudflare/workerd-linux-64 puts it in node_modules/@cloudflare/workerd-linux-64/bin/workerd)", ErrNotFound, EnvBinary)
}

// Worker is one module worker to serve.
type Worker struct {
	Name   string         // service name: letters, digits, '-'
	Module []byte         // one ES module (bundle.ESM)
	Vars   map[string]any // [vars]: strings as text bindings, the rest as JSON
	// Address is "host:port" to listen on; empty means a Unix socket in
	// the process's directory (see Process.Socket).
	Address string
}

// CompatibilityDate is the Workers compatibility date the workers run at.
const CompatibilityDate = "2025-09-01"

// Process is a running workerd.
type Process struct {
	cmd     *exec.Cmd
	dir     string
	sockets map[string]string // worker name -> address ("unix:/path" or host:port)
	done    chan struct{}
	stderr  *tailBuffer
}

// Start writes a config for workers into dir (which must exist) and runs
// bin serve on it until every socket accepts connections.
func Start(ctx context.Context, bin, dir string, workers []Worker) (*Process, error) {
	p := &Process{dir: dir, sockets: map[string]string{}, done: make(chan struct{}), stderr: &tailBuffer{}}
	var cfg strings.Builder
	cfg.WriteString("using Workerd = import \"/workerd/workerd.capnp\";\n\nconst config :Workerd.Config = (\n  services = [\n")
	for i, w := range workers {
		if i > 0 {
			cfg.WriteString(",\n")
		}
		fmt.Fprintf(&cfg, "    (name = %q, worker = .w%d)", w.Name, i)
	}
	cfg.WriteString("\n  ],\n  sockets = [\n")
	for i, w := range workers {
		addr := w.Address
		if addr == "" {
			addr = "unix:" + filepath.Join(dir, fmt.Sprintf("w%d.sock", i))
		}
		p.sockets[w.Name] = addr
		if i > 0 {
			cfg.WriteString(",\n")
		}
		fmt.Fprintf(&cfg, "    (name = \"s%d\", address = %q, http = (), service = %q)", i, addr, w.Name)
	}
	cfg.WriteString("\n  ]\n);\n")
	for i, w := range workers {
		file := fmt.Sprintf("w%d.js", i)
		if err := os.WriteFile(filepath.Join(dir, file), w.Module, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&cfg, "\nconst w%d :Workerd.Worker = (\n  modules = [(name = \"worker.js\", esModule = embed %q)],\n  compatibilityDate = %q,\n  bindings = [", i, file, CompatibilityDate)
		names := make([]string, 0, len(w.Vars))
		for n := range w.Vars {
			names = append(names, n)
		}
		sort.Strings(names)
		for j, n := range names {
			if j > 0 {
				cfg.WriteString(", ")
			}
			if s, ok := w.Vars[n].(string); ok {
				fmt.Fprintf(&cfg, "(name = %q, text = %q)", n, s)
				continue
			}
			b, err := json.Marshal(w.Vars[n])
			if err != nil {
				return nil, fmt.Errorf("var %s of %s: %w", n, w.Name, err)
			}
			fmt.Fprintf(&cfg, "(name = %q, json = %q)", n, string(b))
		}
		cfg.WriteString("],\n);\n")
	}
	conf := filepath.Join(dir, "config.capnp")
	if err := os.WriteFile(conf, []byte(cfg.String()), 0o644); err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, "serve", conf)
	p.cmd.Dir = dir
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start workerd: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for name := range p.sockets {
		for {
			c, err := p.Dial(ctx, name)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-p.done:
				return fmt.Errorf("workerd exited: %s", p.stderr.String())
			case <-ctx.Done():
				return fmt.Errorf("workerd did not listen for %s: %v\n%s", name, err, p.stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// Dial connects to the socket of the named worker.
func (p *Process) Dial(ctx context.Context, name string) (net.Conn, error) {
	addr, ok := p.sockets[name]
	if !ok {
		return nil, fmt.Errorf("no worker %q", name)
	}
	var d net.Dialer
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return d.DialContext(ctx, "unix", path)
	}
	return d.DialContext(ctx, "tcp", addr)
}

// Stderr is the end of what workerd printed (its logs and errors).
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop ends the process.
func (p *Process) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tailBuffer keeps the last 64 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 64<<10 {
		t.buf = t.buf[len(t.buf)-64<<10:]
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// ErrNotFound is returned by Binary when workerd is not installed.
var ErrNotFound = errors.New("workerd not found")
