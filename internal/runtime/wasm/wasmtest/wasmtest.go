// Package wasmtest owns what the wasm runtime's end-to-end tests share: a
// real node (embedded JetStream, gateway and admin API on loopback
// sockets) whose compiled-code cache is shared by every test binary, so a
// big Go module is compiled once per machine rather than once per test.
package wasmtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

// CacheDir is the compiled-code cache tests share. wazero keys entries by
// the module's hash, its own version and the CPU, and writes them
// atomically, so sharing is safe.
func CacheDir() string { return filepath.Join(os.TempDir(), "wisp-test-wasm-cache") }

// Node is a running node and a client for its admin API.
type Node struct {
	*node.Node
	Client *client.Client
	Logs   *logs.Hub
	Data   string
}

// StartNode runs a node with its data in dataDir ("" for a new temporary
// folder) and stops it when the test ends.
func StartNode(t testing.TB, dataDir string) *Node {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	hub := logs.NewHub()
	n := node.New(node.Config{DataDir: dataDir, Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", ShutdownGrace: 5 * time.Second, WasmCacheDir: CacheDir(), Logs: hub})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return &Node{Node: n, Client: client.New(n.AdminURL(), n.Token()), Logs: hub, Data: dataDir}
}

// Deploy builds the service in dir as `wisp deploy` does and deploys it.
func (n *Node) Deploy(t testing.TB, dir string) (*api.DeployResult, error) {
	t.Helper()
	s, err := project.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, err := s.Build(ctx, io.Discard)
	if err != nil {
		return nil, err
	}
	return n.Client.Deploy(ctx, s.Manifest.Name, s.ManifestPath, s.Source, code)
}

// MustDeploy is Deploy failing the test on error.
func (n *Node) MustDeploy(t testing.TB, dir string) *api.DeployResult {
	t.Helper()
	res, err := n.Deploy(t, dir)
	if err != nil {
		t.Fatalf("deploy %s: %v", dir, err)
	}
	return res
}

// Response is what a request through the gateway got.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request through the gateway's socket.
func (n *Node) Do(t testing.TB, method, path string, header http.Header, body string) *Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+n.GatewayAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get is Do for a GET without headers.
func (n *Node) Get(t testing.TB, path string) *Response {
	t.Helper()
	return n.Do(t, http.MethodGet, path, nil, "")
}

var (
	buildMu sync.Mutex
	builds  = map[string]*goBuild{}
)

type goBuild struct {
	once sync.Once
	code []byte
	err  error
}

// BuildGo builds the Go guest in the package folder dir (a main package
// on the wisp Go SDK) for wasip1 as a reactor, once per test process, and
// returns the module. -trimpath keeps the bytes the same from build to
// build of the same source, so the compiled code in CacheDir is reused.
func BuildGo(t testing.TB, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	buildMu.Lock()
	b := builds[abs]
	if b == nil {
		b = &goBuild{}
		builds[abs] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		tmp, err := os.MkdirTemp("", "wisp-go-guest-")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, "guest.wasm")
		cmd := exec.Command(goTool(), "build", "-trimpath", "-buildmode=c-shared", "-o", out, ".")
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", dir, err, msg)
			return
		}
		b.code, b.err = os.ReadFile(out)
	})
	if b.err != nil {
		t.Fatalf("build the Go guest: %v", b.err)
	}
	return b.code
}

// goTool is the go command that runs the tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(goruntime.GOROOT(), "bin", "go")
}
