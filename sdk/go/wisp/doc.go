// Package wisp runs a Go net/http handler as a wisp service compiled to
// WebAssembly with the stock Go toolchain:
//
//	func main() {
//		http.HandleFunc("/hello/", func(w http.ResponseWriter, r *http.Request) {
//			fmt.Fprintf(w, "Hello from Go, %s\n", r.URL.Path)
//		})
//		wisp.Serve(nil) // nil serves http.DefaultServeMux
//	}
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o app.wasm .
//
// On wasip1, wisp calls main once when the instance starts; Serve records
// the handler and returns, and every request then calls the handler on
// the same instance (so globals persist between requests, as in a normal
// Go server, and a panic stops the instance). Elsewhere (go run on your
// machine), Serve listens on $WISP_LISTEN or 127.0.0.1:8080 with
// net/http and the bindings return ErrUnavailable.
//
// Bindings are reached by the names the manifest gives them: Var and
// Secret, KV{Binding: "CARTS"}, Bucket{Binding: "FILES"},
// Queue{Binding: "ORDERS"}, Service("INVENTORY") (an *http.Client), and
// outbound HTTP through http.DefaultClient (or Transport{}), allowed to
// the hosts in [outbound] allowed_hosts. Standard output, standard error
// and the log package go to the service's logs. Env lists every name the
// service has. Objects of any size stream through Bucket.Open and
// Bucket.PutStream (or PutReader) in small pieces; Get and Put hold the
// body whole.
//
// A service that consumes a queue or runs crons registers its handlers
// from main with HandleQueue and HandleScheduled (with or without Serve).
//
// The SDK speaks the wisp ABI v1, documented in docs/abi.md.
package wisp
