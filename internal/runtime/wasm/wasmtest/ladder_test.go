package wasmtest_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/wisp-run/wisp/internal/runtime/wasm/wasmtest"
)

// BenchmarkGoLadder splits a warm Go SDK hello world's cost into steps,
// each a guest answering the same bytes, in one run next to the raw
// net/http handler of BenchmarkHello:
//
//   - go-abi-floor: testdata/abi-floor, a Go guest on the bare ABI (no SDK,
//     no net/http): the host, the two host calls and entering Go;
//   - go-sdk-nomux: testdata/sdk-nomux, the SDK with one http.HandlerFunc:
//     adds the SDK's *http.Request and ResponseWriter and the handler;
//   - go-sdk-example: examples/hello-go: adds its http.ServeMux.
//
// On a shared machine the steps are steadier with everything on one CPU:
//
//	taskset -c 1 go test ./internal/runtime/wasm/wasmtest -run XXX -bench GoLadder -benchtime 2s -cpu 1
func BenchmarkGoLadder(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Hello, world!"))
	})}
	go raw.Serve(ln)
	defer raw.Close()

	n := wasmtest.StartNode(b, "")
	for _, name := range []string{"abi-floor", "sdk-nomux"} {
		dir := b.TempDir()
		code := wasmtest.BuildGo(b, filepath.Join("testdata", name))
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), code, 0o644); err != nil {
			b.Fatal(err)
		}
		writeFile(b, filepath.Join(dir, "wisp.toml"), fmt.Sprintf("name = %q\nwasm = \"%s.wasm\"\nroutes = [\"/%s/*\"]\n", name, name, name))
		n.MustDeploy(b, dir)
	}
	n.MustDeploy(b, repoDir("examples/hello-go"))
	b.Run("raw-net-http", func(b *testing.B) { drive(b, "http://"+ln.Addr().String()+"/hello", nil) })
	b.Run("go-abi-floor", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/abi-floor/", n.Logs) })
	b.Run("go-sdk-nomux", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/sdk-nomux/", n.Logs) })
	b.Run("go-sdk-example", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/hello-go/", n.Logs) })
}
