package js

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/runtime"
)

// serve runs a worker behind the real pool and gateway on a real socket
// and returns its base URL.
func serve(t *testing.T, src string, lc limitsConfig, lg *memLogs) (string, *dispatch.Pool) {
	t.Helper()
	inst := loadWith(t, src, lc, lg)
	mod := inst.(*instance).mod
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := dispatch.NewPool(mod, dispatch.PoolConfig{Max: 2}, log)
	m := mod.spec.Manifest
	svc := &dispatch.Service{Name: "t", Version: "v1", Manifest: m, Pool: pool}
	gw := &gateway.Gateway{Log: log}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw.Invoke(w, r, svc, "http://"+r.Host+r.URL.RequestURI())
	}))
	t.Cleanup(func() { srv.Close(); pool.Close() })
	return srv.URL, pool
}

// Server-sent events reach the client as they are produced, not when the
// stream ends.
func TestStreamedResponseArrivesIncrementally(t *testing.T) {
	url, _ := serve(t, `export default { fetch() {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      if (i === 5) { c.close(); return; }
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      c.enqueue(enc.encode('data: ' + i++ + '\n\n'));
    },
  }), { headers: { 'content-type': 'text/event-stream' } });
} }`, limitsConfig{timeoutMS: 5000}, nil)
	start := time.Now()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || resp.ContentLength != -1 {
		t.Fatalf("headers %v, length %d: want a chunked event stream", resp.Header, resp.ContentLength)
	}
	r := bufio.NewReader(resp.Body)
	var arrivals []time.Duration
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			arrivals = append(arrivals, time.Since(start))
		}
	}
	if len(arrivals) != 5 {
		t.Fatalf("got %d events", len(arrivals))
	}
	if total := arrivals[4]; arrivals[0] > total-500*time.Millisecond {
		t.Fatalf("the first event arrived at %v, the last at %v: the stream was buffered", arrivals[0], total)
	}
}

// ctx.waitUntil work goes on after the response reached the client, up
// to the deadline; the instance stays busy meanwhile.
func TestWaitUntilContinuesAfterTheResponse(t *testing.T) {
	lg := &memLogs{}
	url, pool := serve(t, `let done = 0;
export default { fetch(request, env, ctx) {
  if (new URL(request.url).pathname === '/done') return new Response(String(done));
  ctx.waitUntil(new Promise((r) => setTimeout(() => { done++; console.log('background done'); r(); }, 1500)));
  if (new URL(request.url).pathname === '/forever') ctx.waitUntil(new Promise(() => setTimeout(() => { for (;;) {} }, 50)));
  return new Response('sent');
} }`, limitsConfig{timeoutMS: 3000}, lg)
	start := time.Now()
	resp, err := http.Get(url + "/work")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "sent" {
		t.Fatalf("body %q", body)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the response took %v: it waited for the background work", d)
	}
	poll.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(lg.text(), "background done") {
			return errNotYet
		}
		return nil
	})
	// A loop in waitUntil is stopped at the request's deadline, and the
	// instance is replaced before it serves again.
	resp, err = http.Get(url + "/forever")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	poll.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(lg.text(), "waitUntil: the worker exceeded its time limit") {
			return errNotYet
		}
		return nil
	})
	poll.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if pool.Stats().Discarded.Load() < 1 {
			return errNotYet
		}
		return nil
	})
	resp, err = http.Get(url + "/done")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after the runaway background work: %d %s", resp.StatusCode, body)
	}
}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

var errNotYet error = notYet{}

// clientFetcher is an outbound Fetcher that lets everything through (the
// allowlist is the bindings' business; here only the plumbing is tested).
type clientFetcher struct{ calls atomic.Int64 }

func (f *clientFetcher) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

func TestOutboundFetch(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Upstream", "1")
			_, _ = io.WriteString(w, `{"hello":"world"}`)
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "body": string(b), "ct": r.Header.Get("Content-Type"), "auth": r.Header.Get("Authorization")})
		case "/big":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte(strings.Repeat("z", 1<<20)))
		case "/slow":
			time.Sleep(2 * time.Second)
		}
	}))
	defer upstream.Close()
	f := &clientFetcher{}
	src := `export default { async fetch(request, env) {
  const u = new URL(request.url);
  const up = env.UPSTREAM;
  switch (u.pathname) {
    case '/json': { const r = await fetch(up + '/json'); return Response.json({ status: r.status, ok: r.ok, data: await r.json(), h: r.headers.get('x-upstream'), url: r.url }); }
    case '/post': { const r = await fetch(up + '/echo', { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json', authorization: 'Bearer t' } }); return new Response(await r.text()); }
    case '/stream-body': { const r = await fetch(new Request(up + '/echo', { method: 'PUT', body: new Blob(['from a stream']).stream() })); return new Response(await r.text()); }
    case '/passthrough': return fetch(up + '/big');
    case '/immutable': { const r = await fetch(up + '/json'); try { r.headers.set('x', '1'); return new Response('mutable'); } catch (e) { const m = new Response(r.body, r); m.headers.set('x', '1'); return new Response(e.message + ' / copy: ' + m.headers.get('x')); } }
    case '/abort': { const c = new AbortController(); setTimeout(() => c.abort(), 50); try { await fetch(up + '/slow', { signal: c.signal }); return new Response('not aborted'); } catch (e) { return new Response('aborted: ' + e.name); } }
    case '/bad-scheme': try { await fetch('ftp://x.example/'); } catch (e) { return new Response(e.name + ': ' + e.message); }
  }
  return new Response('?', { status: 404 });
} }`
	inst := loadWith(t, src, limitsConfig{timeoutMS: 5000, env: &binding.Env{Vars: map[string]any{"UPSTREAM": upstream.URL}, Fetch: f}}, nil)
	tests := []struct{ path, want string }{
		{"/json", `{"status":200,"ok":true,"data":{"hello":"world"},"h":"1","url":"` + upstream.URL + `/json"}`},
		{"/post", `{"auth":"Bearer t","body":"{\"a\":1}","ct":"application/json","method":"POST"}` + "\n"},
		{"/stream-body", `{"auth":"","body":"from a stream","ct":"","method":"PUT"}` + "\n"},
		{"/immutable", "Can't modify immutable headers. / copy: 1"},
		{"/abort", "aborted: TypeError"},
		{"/bad-scheme", "TypeError: Fetch API cannot load: ftp://x.example/"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec, err := do(t, inst, "GET", "http://w"+tc.path, "", 5*time.Second)
			if err != nil || rec.Body.String() != tc.want {
				t.Fatalf("%v\n got %q\nwant %q", err, rec.Body.String(), tc.want)
			}
		})
	}
	rec, err := do(t, inst, "GET", "http://w/passthrough", "", 5*time.Second)
	if err != nil || rec.Body.Len() != 1<<20 || rec.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("passthrough: %v %d %v", err, rec.Body.Len(), rec.Header())
	}
}

func TestFetchWithoutOutboundAccessIsRefused(t *testing.T) {
	inst := load(t, `export default { async fetch() { try { await fetch('https://api.example.com/x'); return new Response('reached'); } catch (e) { return new Response(e.message); } } }`, nil, nil)
	rec, err := do(t, inst, "GET", "http://w/", "", time.Second)
	want := "fetch(https://api.example.com/x) refused: this service may not make outbound requests; list the host in [outbound] allowed_hosts in its wisp.toml"
	if err != nil || rec.Body.String() != want {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
}

var (
	_ = manifest.Manifest{}
	_ runtime.Instance
)
