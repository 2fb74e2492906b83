package observe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// program is a guest written in Go for the test: what an instance of a
// service does with a request, given its env.
type program func(ctx context.Context, env *binding.Env, req *runtime.Request, w http.ResponseWriter) error

type module struct {
	prog program
	env  *binding.Env
}

func (m *module) NewInstance(context.Context) (runtime.Instance, error) { return m, nil }
func (m *module) Close()                                                {}
func (m *module) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	return m.prog(ctx, m.env, req, w)
}

// serviceBinding calls another service's pool in-process, as service
// bindings do.
type serviceBinding struct{ callee *dispatch.Service }

func (s serviceBinding) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	rec := httptest.NewRecorder()
	err := s.callee.Pool.Fetch(ctx, &runtime.Request{ID: "call-" + s.callee.Name, Method: req.Method, URL: req.URL.String(), Header: req.Header, Body: body}, rec)
	if err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// producer sends to a JetStream stream with the sender's traceparent, as
// internal/queue does.
type producer struct {
	js      jetstream.JetStream
	subject string
}

func (p producer) Send(ctx context.Context, msgs []binding.Message) error {
	for _, m := range msgs {
		nm := nats.NewMsg(p.subject)
		nm.Data = m.Body
		observe.InjectMap(ctx, nm.Header)
		if _, err := p.js.PublishMsg(ctx, nm); err != nil {
			return err
		}
	}
	return nil
}

func call(ctx context.Context, env *binding.Env, name, path string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://internal"+path, nil)
	resp, err := env.Services[name].Fetch(ctx, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestOneTrace: a checkout through the gateway to cart, which calls
// inventory and orders through service bindings; orders sends to a
// queue (a real JetStream stream) whose consumer runs payments. All of it
// is one trace, with each span under the one that caused it.
func TestOneTrace(t *testing.T) {
	st := storetest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := st.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders"}}); err != nil {
		t.Fatal(err)
	}
	o, err := observe.New(observe.Config{Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]*dispatch.Service{}
	deploy := func(name string, env *binding.Env, targets map[string]string, prog program) *dispatch.Service {
		obs := o.Service(name, "v1", 128)
		mod := &module{prog: prog, env: obs.WrapEnv(env, targets)}
		svc := &dispatch.Service{Name: name, Version: "v1", Manifest: &manifest.Manifest{Name: name, Limits: manifest.Limits{TimeoutMS: 10000, MaxInstances: 2, MemoryMB: 128}},
			Pool: dispatch.NewPool(mod, dispatch.PoolConfig{Max: 2, Observe: obs}, nil)}
		services[name] = svc
		return svc
	}
	paid := make(chan string, 1)
	payments := deploy("payments", &binding.Env{}, nil, nil)
	inventory := deploy("inventory", &binding.Env{}, nil, func(ctx context.Context, env *binding.Env, req *runtime.Request, w http.ResponseWriter) error {
		_, err := io.WriteString(w, "in stock")
		return err
	})
	orders := deploy("orders", &binding.Env{Queues: map[string]binding.Producer{"ORDERS": producer{st.JS, "orders"}}}, nil,
		func(ctx context.Context, env *binding.Env, req *runtime.Request, w http.ResponseWriter) error {
			if err := env.Queues["ORDERS"].Send(ctx, []binding.Message{{Body: []byte("order-1")}}); err != nil {
				return err
			}
			_, err := io.WriteString(w, "accepted")
			return err
		})
	cart := deploy("cart", &binding.Env{Services: map[string]binding.Service{"INVENTORY": serviceBinding{inventory}, "ORDERS": serviceBinding{orders}}},
		map[string]string{"INVENTORY": "inventory", "ORDERS": "orders"},
		func(ctx context.Context, env *binding.Env, req *runtime.Request, w http.ResponseWriter) error {
			stock, err := call(ctx, env, "INVENTORY", "/api/inventory/bike")
			if err != nil {
				return err
			}
			order, err := call(ctx, env, "ORDERS", "/api/orders")
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, stock+", "+order)
			return err
		})

	// The queue's consumer runs payments with each message, in the trace
	// of the send.
	cons, err := st.JS.CreateConsumer(ctx, "ORDERS", jetstream.ConsumerConfig{Durable: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		h := nats.Header(m.Headers())
		qctx, inv := payments.Pool.Observer().Begin(observe.ExtractMap(context.Background(), h), observe.Queue, "queue orders", "batch-1")
		err := payments.Pool.Do(qctx, func(context.Context, runtime.Instance) error { paid <- string(m.Data()); return nil })
		inv.End()
		if err == nil {
			_ = m.Ack()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()

	p, _ := route.Parse("/api/cart/*")
	table, err := route.Build([]route.Entry[*dispatch.Service]{{Pattern: p, Owner: "cart", Value: cart}})
	if err != nil {
		t.Fatal(err)
	}
	snap := &gateway.Snapshot{Routes: table, Services: services}
	srv := httptest.NewServer(&gateway.Gateway{Snapshot: func() *gateway.Snapshot { return snap }})
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/cart/checkout", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "in stock, accepted" {
		t.Fatalf("checkout: %d %q", resp.StatusCode, body)
	}
	select {
	case m := <-paid:
		if m != "order-1" {
			t.Fatalf("payments got %q", m)
		}
	case <-ctx.Done():
		t.Fatal("payments never ran")
	}

	reqID := resp.Header.Get(gateway.RequestIDHeader)
	var spans []*observe.Span
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		var ok bool
		spans, ok = o.Recent().Trace(reqID)
		if !ok || len(spans) < 7 {
			return fmt.Errorf("trace of request %s: %d spans", reqID, len(spans))
		}
		return nil
	})
	// The tree, as service/name under service/name.
	byID := map[string]*observe.Span{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
	}
	label := func(s *observe.Span) string { return s.Service + "/" + s.Name }
	var edges []string
	for _, s := range spans {
		if s.SpanContext.TraceID() != spans[0].SpanContext.TraceID() {
			t.Fatalf("span %s is in another trace", label(s))
		}
		parent := "(root)"
		if ps, ok := byID[s.Parent.SpanID().String()]; ok {
			parent = label(ps)
		} else if s.Parent.IsValid() {
			t.Fatalf("span %s has a parent outside the trace", label(s))
		}
		edges = append(edges, parent+" → "+label(s)+" ["+s.Kind.String()+"]")
	}
	want := []string{
		"(root) → cart/POST [server]",
		"cart/POST → cart/call inventory fetch [client]",
		"cart/call inventory fetch → inventory/GET [server]",
		"cart/POST → cart/call orders fetch [client]",
		"cart/call orders fetch → orders/GET [server]",
		"orders/GET → orders/queue ORDERS send [producer]",
		"orders/queue ORDERS send → payments/queue orders [consumer]",
	}
	got := strings.Join(edges, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in the trace:\n%s", w, got)
		}
	}
	if len(spans) != len(want) {
		t.Errorf("%d spans, want %d:\n%s", len(spans), len(want), got)
	}
	for _, s := range spans {
		attrs := map[string]any{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.AsInterface()
		}
		switch label(s) {
		case "inventory/GET", "orders/GET":
			if attrs["wisp.trigger"] != "service" {
				t.Errorf("%s: trigger %v", label(s), attrs["wisp.trigger"])
			}
		case "payments/queue orders":
			if attrs["wisp.trigger"] != "queue" || attrs["wisp.request_id"] != "batch-1" {
				t.Errorf("%s: %v", label(s), attrs)
			}
		}
	}
}
