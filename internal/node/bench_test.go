package node_test

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkHello compares the whole hot path (socket → gateway → route →
// pool → instance → response) with a raw net/http handler answering the
// same bytes, through real loopback sockets, in the same run:
//
//	go test ./internal/node -run XXX -bench Hello -cpu 2
func BenchmarkHello(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		io.WriteString(w, "Hello, world!")
	})}
	go raw.Serve(ln)
	defer raw.Close()

	n := benchNode(b)
	b.Run("raw-net-http", func(b *testing.B) { drive(b, "http://"+ln.Addr().String()+"/hello") })
	b.Run("wisp-js", func(b *testing.B) { drive(b, "http://"+n+"/hello") })
}

func drive(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
