package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/outbound"
	"github.com/wisp-run/wisp/internal/observe"
)

// TestOutboundFetch: a fetch through the node's real outbound client is a
// client span of the invocation making it, the request carries that
// span's traceparent, and its body counts as egress.
func TestOutboundFetch(t *testing.T) {
	var got http.Header
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	client := outbound.NewClient(outbound.Config{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer client.Close()
	f, err := client.Fetcher([]string{srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	o, err := observe.New(observe.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := o.Service("cart", "v1", 128)
	env := svc.WrapEnv(&binding.Env{Fetch: f}, nil)
	ctx, inv := svc.Begin(context.Background(), observe.HTTP, "POST", "req-1")
	ctx, _ = svc.Adopt(ctx, nil)
	inv.Start(nil, false)
	ctx = binding.StartInvocation(ctx, 10)
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/charge?x=1", strings.NewReader("hello"))
	resp, err := env.Fetch.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	inv.Stop(nil)
	inv.End()

	spans, ok := o.Recent().Trace(inv.TraceID())
	if !ok || len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	var fetch, root *observe.Span
	for _, s := range spans {
		switch s.Name {
		case "fetch POST":
			fetch = s
		case "POST":
			root = s
		}
	}
	if fetch == nil || root == nil || fetch.Kind.String() != "client" || fetch.Parent.SpanID() != root.SpanContext.SpanID() {
		t.Fatalf("fetch span %+v under %+v", fetch, root)
	}
	want := "00-" + inv.TraceID() + "-" + fetch.SpanContext.SpanID().String() + "-01"
	if tp := got.Get("Traceparent"); tp != want {
		t.Fatalf("traceparent %q, want %q", tp, want)
	}
	if body != "hello" {
		t.Fatalf("body %q", body)
	}
	attrs := map[string]any{}
	for _, kv := range fetch.Attributes() {
		attrs[string(kv.Key)] = kv.Value.AsInterface()
	}
	if attrs["http.response.status_code"] != int64(202) || attrs["server.address"] != "127.0.0.1" {
		t.Fatalf("attributes %v", attrs)
	}
	fams, err := o.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var egress float64
	for _, f := range fams {
		if f.GetName() == "wisp_egress_bytes_total" {
			egress = f.Metric[0].GetCounter().GetValue()
		}
	}
	if egress != 5 {
		t.Fatalf("egress %v, want 5", egress)
	}
}
