//go:build !wasip1

package wisp

import (
	"net/http"
	"os"
)

// Serve runs h (http.DefaultServeMux when nil) with net/http on
// $WISP_LISTEN (default 127.0.0.1:8080), for trying a service on your own
// machine without wisp. Bindings return ErrUnavailable there.
func Serve(h http.Handler) {
	addr := os.Getenv("WISP_LISTEN")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if err := http.ListenAndServe(addr, h); err != nil {
		os.Stderr.WriteString("wisp: " + err.Error() + "\n")
		os.Exit(1)
	}
}
