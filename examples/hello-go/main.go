// Command hello-go is a wisp service in Go: an ordinary net/http handler,
// compiled to WebAssembly with the stock toolchain and the wisp SDK.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

// requests counts the requests this instance served: an instance handles
// many requests, so globals persist between them.
var requests int

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello-go/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!")
	})
	mux.HandleFunc("GET /hello-go/greet/{name}", func(w http.ResponseWriter, r *http.Request) {
		requests++
		greeting, _ := wisp.Var("GREETING")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"message":  fmt.Sprintf("%s, %s!", greeting, r.PathValue("name")),
			"requests": requests,
		})
	})
	mux.HandleFunc("POST /hello-go/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET /hello-go/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("you asked for it")
	})
	wisp.Serve(mux)
}
