package js

import (
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/runtime"
)

func TestHelloAndJSON(t *testing.T) {
	inst := load(t, `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/json') {
      return Response.json({ q: url.searchParams.get('q'), currency: env.CURRENCY, n: env.N, h: request.headers.get('x-test') });
    }
    if (request.method === 'POST') {
      const body = await request.text();
      return new Response('got ' + body, { status: 201, headers: { 'X-Kind': 'echo' } });
    }
    return new Response('Hello from ' + url.pathname);
  }
}`, map[string]any{"CURRENCY": "EUR", "N": int64(3)}, nil)

	rec, err := do(t, inst, "GET", "http://example.com/hi", "", time.Second)
	if err != nil || rec.Code != 200 || rec.Body.String() != "Hello from /hi" {
		t.Fatalf("hello: %v %d %q", err, rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain;charset=UTF-8" {
		t.Errorf("content-type = %q", ct)
	}
	rec, err = do(t, inst, "GET", "http://example.com/json?q=a%20b", "", time.Second)
	if err != nil || rec.Body.String() != `{"q":"a b","currency":"EUR","n":3,"h":"yes"}` {
		t.Fatalf("json: %v %q", err, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("json content-type = %q", ct)
	}
	rec, err = do(t, inst, "POST", "http://example.com/", "payload", time.Second)
	if err != nil || rec.Code != 201 || rec.Body.String() != "got payload" || rec.Header().Get("X-Kind") != "echo" {
		t.Fatalf("post: %v %d %q %v", err, rec.Code, rec.Body.String(), rec.Header())
	}
}

func TestTimersAndWaitUntil(t *testing.T) {
	lg := &memLogs{}
	inst := load(t, `export default {
  async fetch(request, env, ctx) {
    await new Promise((r) => setTimeout(r, 5));
    let n = 0;
    await new Promise((r) => { const id = setInterval(() => { if (++n === 3) { clearInterval(id); r(); } }, 1); });
    ctx.waitUntil(new Promise((r) => setTimeout(() => { console.log('after', n); r(); }, 5)));
    queueMicrotask(() => console.log('micro'));
    return new Response('ticks ' + n);
  }
}`, nil, lg)
	rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
	if err != nil || rec.Body.String() != "ticks 3" {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
	if ch := inst.(runtime.Lingerer).Linger(); ch == nil {
		t.Fatal("waitUntil work should linger after the response")
	} else if err := <-ch; err != nil {
		t.Fatal(err)
	}
	if got := lg.text(); !strings.Contains(got, "info after 3") || !strings.Contains(got, "info micro") {
		t.Fatalf("logs: %q", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		kind      runtime.ErrorKind
		msg       string
	}{
		{"throw", `export default { fetch() { throw new Error('boom') } }`, runtime.Exception, "Uncaught Error: boom"},
		{"reject", `export default { async fetch() { await null; throw new TypeError('bad') } }`, runtime.Exception, "TypeError: bad"},
		{"not a response", `export default { fetch() { return 'hi' } }`, runtime.BadResponse, "not a Response"},
		{"never settles", `export default { fetch() { return new Promise(() => {}) } }`, runtime.Exception, "never settled"},
		{"infinite loop", `export default { fetch() { for (;;) {} } }`, runtime.Timeout, "time limit"},
		{"async loop", `export default { async fetch() { await null; while (true) {} } }`, runtime.Timeout, "time limit"},
		{"recursion", `export default { fetch() { const f = () => f(); f(); } }`, runtime.Crash, "Maximum call stack size exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst := load(t, tc.src, nil, nil)
			_, err := do(t, inst, "GET", "http://x/", "", 200*time.Millisecond)
			re, ok := err.(*runtime.Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *runtime.Error", err, err)
			}
			if re.Kind != tc.kind || !strings.Contains(re.Message, tc.msg) {
				t.Fatalf("err = %v (kind %d), want kind %d containing %q", re, re.Kind, tc.kind, tc.msg)
			}
		})
	}
}

func TestInstanceReusableAfterException(t *testing.T) {
	inst := load(t, `let n = 0; export default { fetch() { n++; if (n === 1) throw new Error('first'); return new Response(String(n)) } }`, nil, nil)
	if _, err := do(t, inst, "GET", "http://x/", "", time.Second); err == nil {
		t.Fatal("first call should fail")
	}
	rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
	if err != nil || rec.Body.String() != "2" {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
}
