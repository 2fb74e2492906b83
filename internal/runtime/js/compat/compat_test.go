package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/bundle"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
)

// TestCompat runs every worker of the corpus in wisp, behind the real
// pool and gateway over a real socket, and compares each response with
// what workerd answered.
func TestCompat(t *testing.T) {
	corpus := loadCorpus(t)
	known := knownDifferences(t)
	var passed, total, knownFailed int
	var failed []string
	for _, w := range corpus {
		t.Run(w.name, func(t *testing.T) {
			exp := readExpected(t, w)
			client, stop := serveWisp(t, w)
			defer stop()
			for i, r := range w.cases.Requests {
				total++
				want := exp.Responses[i]
				got, err := r.send(context.Background(), client)
				if err != nil {
					t.Errorf("%s: %v", r.Name, err)
					failed = append(failed, w.name+"/"+r.Name)
					continue
				}
				d := diff(got, &want, r.Error)
				key := w.name + "/" + r.Name
				switch {
				case d == "":
					passed++
				case known[key] != "":
					knownFailed++
					t.Logf("%s differs, a known difference (%s):\n%s", r.Name, known[key], d)
				default:
					failed = append(failed, key)
					t.Errorf("%s differs from workerd:\n%s", r.Name, d)
				}
			}
		})
	}
	t.Logf("compat: %d of %d requests (%d workers) answered as workerd did; %d known differences; failures: %v",
		passed, total, len(corpus), knownFailed, failed)
	if n := len(corpus); n < 30 {
		t.Errorf("the corpus has %d workers; it must have at least 30", n)
	}
}

func readExpected(t *testing.T, w worker) expectedFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "expected.json"))
	if err != nil {
		t.Fatalf("%s has no expectations (run TestRecord with workerd): %v", w.name, err)
	}
	var exp expectedFile
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Responses) != len(w.cases.Requests) {
		t.Fatalf("%s: expected.json has %d responses for %d requests: record again", w.name, len(exp.Responses), len(w.cases.Requests))
	}
	for i, r := range w.cases.Requests {
		if exp.Responses[i].Name != r.Name {
			t.Fatalf("%s: expected.json is for other requests (%q, not %q): record again", w.name, exp.Responses[i].Name, r.Name)
		}
	}
	return exp
}

// serveWisp loads the worker and serves it through the gateway on a real
// socket; the client it returns dials that socket whatever the URL.
func serveWisp(t *testing.T, w worker) (*http.Client, func()) {
	t.Helper()
	code, err := bundle.JS(w.dir, w.cases.Main)
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	m := &manifest.Manifest{Name: w.name, Main: w.cases.Main, Vars: w.cases.Vars,
		Limits: manifest.Limits{MemoryMB: manifest.DefaultMemoryMB, TimeoutMS: 10_000, MaxInstances: 1}}
	mod, err := js.Engine{}.Load(context.Background(), runtime.Spec{
		Service: w.name, Version: "compat", Manifest: m, Code: code, Env: &binding.Env{Vars: w.cases.Vars},
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := dispatch.NewPool(mod, dispatch.PoolConfig{Max: 1}, log)
	svc := &dispatch.Service{Name: w.name, Version: "compat", Manifest: m, Pool: pool}
	gw := &gateway.Gateway{Log: log}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		gw.Invoke(rw, r, svc, "http://"+r.Host+r.URL.RequestURI())
	}))
	addr := srv.Listener.Addr().String()
	client := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
	return client, func() {
		srv.Close()
		pool.Close()
		mod.Close()
	}
}

// knownDifferences reads known.json: "worker/request" -> why wisp
// answers differently on purpose. It starts empty and should stay small.
func knownDifferences(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("known.json")
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("known.json: %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.Contains(k, "/") || m[k] == "" {
			t.Fatalf("known.json: %q needs the form worker/request and a reason", k)
		}
	}
	return m
}

var _ = fmt.Sprintf
