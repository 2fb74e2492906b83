package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// goHelloCGI is a Go hello world for WASI: a plain CGI program (the
// WAGI way in), built with the stock toolchain and no SDK.
const goHelloCGI = `package main

import (
	"io"
	"net/http"
	"net/http/cgi"
)

func main() {
	_ = cgi.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		io.WriteString(w, "Hello, world!")
	}))
}
`

// goWasmPeer deploys three Go hello worlds compiled to wasip1 on a wisp
// node: the CGI program above (the Go runtime starts on every request),
// the Go SDK's examples/hello-go as committed (one instance serves
// request after request), and the floor under it: a Go guest on the bare
// ABI with no SDK and no net/http (internal/runtime/wasm/wasmtest/
// testdata/abi-floor). It is skipped while the node has no wasm engine
// (issue 4).
func goWasmPeer(_ context.Context, e *env) ([]target, error) {
	dir := filepath.Join(e.work, "svc", "hello-go")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goHelloCGI), 0o644); err != nil {
		return nil, err
	}
	cgi, err := buildWasip1(dir, "main.go", filepath.Join(dir, "hello.wasm"))
	if err != nil {
		return nil, fmt.Errorf("build the Go wasm hello: %w", err)
	}
	n, err := e.startWisp(filepath.Join(e.work, "data-wasm"))
	if err != nil {
		return nil, err
	}
	e.cleanup(n.stop)
	s := service{name: "hello-go", toml: "name = \"hello-go\"\nwasm = \"hello.wasm\"\nroutes = [\"/hello\"]\n", files: map[string]string{"hello.wasm": string(cgi)}}
	if err := e.deploy(n, s); err != nil {
		if strings.Contains(err.Error(), "not supported") {
			return nil, skipf("Go-wasm hello: this wisp has no wasm engine yet (issue 4): %v", err)
		}
		return nil, err
	}
	sdk, err := os.ReadFile(filepath.Join("examples", "hello-go", "hello.wasm"))
	if err != nil {
		return nil, fmt.Errorf("read the Go SDK hello (run from the repository root): %w", err)
	}
	if err := deployReactor(e, n, "hello-go-sdk", "/hello-go/*", sdk); err != nil {
		return nil, err
	}
	// The floor under the SDK: a Go guest on the bare ABI, no SDK and no
	// net/http (BenchmarkGoLadder's go-abi-floor), answering the same bytes.
	floor, err := buildWasip1(filepath.Join("internal", "runtime", "wasm", "wasmtest", "testdata", "abi-floor"), ".", filepath.Join(e.work, "abi-floor.wasm"), "-buildmode=c-shared")
	if err != nil {
		return nil, fmt.Errorf("build the bare-ABI Go guest (run from the repository root): %w", err)
	}
	if err := deployReactor(e, n, "hello-go-floor", "/floor/*", floor); err != nil {
		return nil, err
	}
	return []target{
		{name: "wisp Go-wasm hello (CGI)", workload: "hello", url: "http://" + n.gateway + "/hello", pid: n.pid()},
		{name: "wisp Go SDK hello", workload: "hello", url: "http://" + n.gateway + "/hello-go/", pid: n.pid()},
		{name: "wisp Go bare-ABI hello (floor)", workload: "hello", url: "http://" + n.gateway + "/floor/", pid: n.pid()},
	}, nil
}

// buildWasip1 builds pkg (a package path or a .go file) in dir for
// wasip1 into out and returns the module.
func buildWasip1(dir, pkg, out string, flags ...string) ([]byte, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	build := exec.Command("go", append(append([]string{"build", "-trimpath"}, flags...), "-o", abs, pkg)...)
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, msg)
	}
	return os.ReadFile(abs)
}

// deployReactor deploys a module that serves many requests per instance
// (the wisp ABI) on route, with up to two instances per core.
func deployReactor(e *env, n *wispNode, name, route string, code []byte) error {
	return e.deploy(n, service{
		name:  name,
		toml:  fmt.Sprintf("name = %q\nwasm = \"guest.wasm\"\nroutes = [%q]\n[limits]\nmax_instances = %d\n", name, route, runtime.NumCPU()*2),
		files: map[string]string{"guest.wasm": string(code)},
	})
}
