package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/wisp-run/wisp/internal/observe"
)

// collector is an OTLP/HTTP receiver: it decodes what it is sent with
// the OTLP protobuf definitions, as a collector does.
type collector struct {
	mu    sync.Mutex
	spans map[string][]string // service.name → span names
	trace map[string]string   // span name → trace id (hex)
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf on /v1/traces", http.StatusNotFound)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		svc := ""
		for _, kv := range rs.Resource.Attributes {
			if kv.Key == "service.name" {
				svc = kv.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans[svc] = append(c.spans[svc], s.Name)
				c.trace[s.Name] = hexOf(s.TraceId)
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(digits[c>>4])
		sb.WriteByte(digits[c&15])
	}
	return sb.String()
}

// TestOTLPExport: with an OTLP endpoint, spans reach the collector (each
// wisp service as its own service.name) by shutdown at the latest, and
// are still kept on the node.
func TestOTLPExport(t *testing.T) {
	col := &collector{spans: map[string][]string{}, trace: map[string]string{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	o, err := observe.New(observe.Config{OTLPEndpoint: srv.URL, Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	cart, inventory := o.Service("cart", "v1", 128), o.Service("inventory", "v1", 128)
	ctx, inv := cart.Begin(context.Background(), observe.HTTP, "POST", "req-1")
	_, own := cart.Adopt(ctx, nil) // the pool adopts the invocation begun for it
	if own != inv {
		t.Fatal("the pool did not adopt the pending invocation")
	}
	inv.Start(nil, false)
	_, callee := inventory.Adopt(ctx, nil) // a call from the running one: a child invocation
	if callee == inv {
		t.Fatal("a call from a running invocation was adopted as that invocation")
	}
	callee.Start(nil, false)
	callee.Stop(nil)
	inv.Stop(nil)
	inv.End()
	tid := inv.TraceID()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if strings.Join(col.spans["cart"], ",") != "POST" || strings.Join(col.spans["inventory"], ",") != "run" {
		t.Fatalf("collector got %v", col.spans)
	}
	if col.trace["POST"] != tid || col.trace["run"] != tid {
		t.Fatalf("trace ids %v, want %s", col.trace, tid)
	}
	if spans, ok := o.Recent().Trace(tid); !ok || len(spans) != 2 {
		t.Fatalf("kept on the node: %d spans", len(spans))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  observe.Config
		want string
	}{
		{"ftp endpoint", observe.Config{OTLPEndpoint: "ftp://collector:4318"}, "not an http:// or https:// URL"},
		{"no host", observe.Config{OTLPEndpoint: "http://"}, "not an http:// or https:// URL"},
		{"sample above 1", observe.Config{TraceSample: 1.5}, "not between 0 and 1"},
		{"negative sample", observe.Config{TraceSample: -0.1}, "not between 0 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := observe.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
