package node_test

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// jsonWorker is the JSON worker of the benchmark suite (bench/env.go).
const jsonWorker = `export default { async fetch(req) {
  const u = new URL(req.url);
  return Response.json({ path: u.pathname, q: u.searchParams.get('q'), ua: req.headers.get('user-agent') });
} }`

// BenchmarkJSON is BenchmarkHello for the suite's JSON worker, next to a
// raw net/http handler writing the same JSON, in the same run:
//
//	go test ./internal/node -run XXX -bench JSON -cpu 2
func BenchmarkJSON(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"path":"/json","q":"`+r.URL.Query().Get("q")+`","ua":"`+r.UserAgent()+`"}`)
	})}
	go raw.Serve(ln)
	defer raw.Close()

	n := startNode(b, b.TempDir())
	mustDeploy(b, adminClient(n), writeService(b, "name = \"json\"\nmain = \"index.js\"\nroutes = [\"/json\"]\n[limits]\nmax_instances = 8\n", map[string]string{
		"index.js": jsonWorker,
	}))
	b.Run("raw-net-http", func(b *testing.B) { drive(b, "http://"+ln.Addr().String()+"/json?q=1") })
	b.Run("wisp-js", func(b *testing.B) { drive(b, "http://"+n.GatewayAddr()+"/json?q=1") })
}
