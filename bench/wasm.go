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
	build := exec.Command("go", "build", "-o", "hello.wasm", "main.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the Go wasm hello: %v\n%s", err, out)
	}
	n, err := e.startWisp(filepath.Join(e.work, "data-wasm"))
	if err != nil {
		return nil, err
	}
	e.cleanup(n.stop)
	s := service{name: "hello-go", toml: "name = \"hello-go\"\nwasm = \"hello.wasm\"\nroutes = [\"/hello\"]\n"}
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
	s = service{
		name:  "hello-go-sdk",
		toml:  fmt.Sprintf("name = \"hello-go-sdk\"\nwasm = \"hello.wasm\"\nroutes = [\"/hello-go/*\"]\n[limits]\nmax_instances = %d\n", runtime.NumCPU()*2),
		files: map[string]string{"hello.wasm": string(sdk)},
	}
	if err := e.deploy(n, s); err != nil {
		return nil, err
	}
	// The floor under the SDK: a Go guest on the bare ABI, no SDK and no
	// net/http (BenchmarkGoLadder's go-abi-floor), answering the same bytes.
	floorDir, err := filepath.Abs(filepath.Join("internal", "runtime", "wasm", "wasmtest", "testdata", "abi-floor"))
	if err != nil {
		return nil, err
	}
	floorWasm := filepath.Join(e.work, "abi-floor.wasm")
	build = exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", floorWasm, ".")
	build.Dir = floorDir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the bare-ABI Go guest (run from the repository root): %v\n%s", err, out)
	}
	floor, err := os.ReadFile(floorWasm)
	if err != nil {
		return nil, err
	}
	s = service{
		name:  "hello-go-floor",
		toml:  fmt.Sprintf("name = \"hello-go-floor\"\nwasm = \"guest.wasm\"\nroutes = [\"/floor/*\"]\n[limits]\nmax_instances = %d\n", runtime.NumCPU()*2),
		files: map[string]string{"guest.wasm": string(floor)},
	}
	if err := e.deploy(n, s); err != nil {
		return nil, err
	}
	return []target{
		{name: "wisp Go-wasm hello (CGI)", workload: "hello", url: "http://" + n.gateway + "/hello", pid: n.pid()},
		{name: "wisp Go SDK hello", workload: "hello", url: "http://" + n.gateway + "/hello-go/", pid: n.pid()},
		{name: "wisp Go bare-ABI hello (floor)", workload: "hello", url: "http://" + n.gateway + "/floor/", pid: n.pid()},
	}, nil
}
