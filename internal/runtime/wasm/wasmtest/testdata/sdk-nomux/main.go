// Command sdk-nomux is examples/hello-go's hello route without the
// http.ServeMux: the Go SDK with one http.HandlerFunc. BenchmarkGoLadder
// measures it between the ABI's floor and the example.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guest.wasm .
package main

import (
	"io"
	"net/http"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

func main() {
	wisp.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!")
	}))
}
