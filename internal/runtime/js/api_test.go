package js

import (
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/runtime"
)

// evalWorker wraps an expression in a worker that answers with its value
// (awaited, JSON-encoded), or "throws Name: message".
func evalWorker(expr string) string {
	return `export default { async fetch(request, env, ctx) {
  try {
    const v = await (async () => (` + expr + `))();
    return new Response(typeof v === 'string' ? v : JSON.stringify(v));
  } catch (e) {
    return new Response('throws ' + (e && e.name) + ': ' + (e && e.message));
  }
} }`
}

// TestWebAPIBehaviour covers what the differential corpus does not:
// behaviour workerd has no counterpart for, wisp's own refusals, and
// corners of the APIs.
func TestWebAPIBehaviour(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		// Unsupported APIs name themselves.
		{"HTMLRewriter", `new HTMLRewriter()`, "throws Error: HTMLRewriter is not supported by wisp"},
		{"HTMLRewriter call", `HTMLRewriter()`, "throws Error: HTMLRewriter is not supported by wisp"},
		{"caches", `caches.default.match('x')`, "throws Error: caches is not supported by wisp"},
		{"WebSocketPair", `new WebSocketPair()`, "throws Error: WebSocketPair is not supported by wisp"},
		{"WebAssembly", `WebAssembly.instantiate(new Uint8Array(8))`, "throws Error: WebAssembly is not supported by wisp"},
		{"CompressionStream", `new CompressionStream('gzip')`, "throws Error: CompressionStream is not supported by wisp"},
		{"unsupported typeof is harmless", `[typeof HTMLRewriter, String(typeof caches)]`, `["function","function"]`},
		{"DigestStream", `new crypto.DigestStream('SHA-256')`, "throws Error: crypto.DigestStream is not supported by wisp"},
		{"encrypt", `crypto.subtle.encrypt({ name: 'AES-GCM' }, null, new Uint8Array(1))`, "throws NotSupportedError: crypto.subtle.encrypt(AES-GCM) is not supported by wisp"},
		{"importKey RSA", `crypto.subtle.importKey('spki', new Uint8Array(1), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify'])`, "throws NotSupportedError: crypto.subtle.importKey(RSASSA-PKCS1-V1_5) is not supported by wisp"},
		{"service worker syntax", `addEventListener('fetch', () => {})`, "throws Error: addEventListener('fetch') (the service-worker syntax) is not supported by wisp: write `export default { async fetch(…) { … } }`"},
		{"byob reader", `new ReadableStream().getReader({ mode: 'byob' })`, "throws TypeError: ReadableStreamBYOBReader is not supported by wisp"},

		// Built-ins sized past the memory limit are refused before they run.
		{"huge ArrayBuffer", `new ArrayBuffer(2 ** 40)`, "throws RangeError: The ArrayBuffer is larger than this service's memory limit allows"},
		{"huge Uint8Array", `new Uint8Array(2 ** 40)`, "throws RangeError: The Uint8Array is larger than this service's memory limit allows"},
		{"huge Float64Array from array-like", `new Float64Array({ length: 2 ** 30 })`, "throws RangeError: The Float64Array is larger than this service's memory limit allows"},
		{"huge repeat", `'x'.repeat(2 ** 31)`, "throws RangeError: The repeated string is larger than this service's memory limit allows"},
		{"huge padStart", `'x'.padStart(2 ** 31)`, "throws RangeError: The padded string is larger than this service's memory limit allows"},
		{"sparse map", `new Array(2 ** 32 - 1).map((x) => x)`, "throws RangeError: The array is larger than this service's memory limit allows"},
		{"array-like forEach", `Array.prototype.forEach.call({ length: 2 ** 40 }, () => {})`, "throws RangeError: The array is larger than this service's memory limit allows"},
		{"Array.from array-like", `Array.from({ length: 2 ** 40 })`, "throws RangeError: The array is larger than this service's memory limit allows"},
		{"huge join", `new Array(2 ** 20).join('x'.repeat(1000))`, "throws RangeError: The joined string is larger than this service's memory limit allows"},
		{"normal sizes pass", `[new ArrayBuffer(1024).byteLength, 'ab'.repeat(3), [1, 2, 3].map((x) => x * 2), Array.from({ length: 3 }, (_, i) => i), new Uint8Array([1, 2]).length, [1, 2].join('-')]`, `[1024,"ababab",[2,4,6],[0,1,2],2,"1-2"]`},
		{"guarded constructors keep their identity", `[new Uint8Array(2) instanceof Uint8Array, new Uint8Array(2).constructor === Uint8Array, Uint8Array.name, Uint8Array.BYTES_PER_ELEMENT, Uint8Array.from([1]).length, ArrayBuffer.isView(new Uint8Array(1)), new Uint8Array(4).subarray(1) instanceof Uint8Array, new Uint8Array([3, 1, 2]).map((x) => x + 1).join()]`, `[true,true,"Uint8Array",1,1,true,true,"4,2,3"]`},
		{"subclassing a guarded constructor", `(() => { class B extends Uint8Array { sum() { return this.reduce((a, b) => a + b, 0); } } const b = new B([1, 2, 3]); return [b instanceof B, b.sum()]; })()`, `[true,6]`},

		// Go-native classes look like Web classes.
		{"response shape", `(() => { const r = new Response('x'); return [Object.keys(r), JSON.stringify(r), r instanceof Response, Object.prototype.toString.call(r), typeof Response.prototype.text, 'status' in r]; })()`, `[[],"{}",true,"[object Response]","function",true]`},
		{"expando properties", `(() => { const r = new Response('x'); r.myTag = 7; return [r.myTag, Object.keys(r)]; })()`, `[7,["myTag"]]`},
		{"read-only attributes", `(() => { 'use strict'; const r = new Response('x'); try { r.status = 1; return 'assigned'; } catch (e) { return e.name + ' ' + r.status; } })()`, `TypeError 200`},
		{"prototype patching", `(() => { Response.prototype.hello = function () { return 'hi ' + this.status; }; return new Response('', { status: 201 }).hello(); })()`, `hi 201`},
		{"subclassing Response", `(async () => { class JSONResponse extends Response { constructor(v) { super(JSON.stringify(v), { headers: { 'content-type': 'application/json' } }); } } const r = new JSONResponse({ a: 1 }); return [r instanceof JSONResponse, r instanceof Response, await r.json(), r.headers.get('content-type')]; })()`, `[true,true,{"a":1},"application/json"]`},
		{"Response.json on a subclass", `(() => { class R extends Response {} return R.json(1) instanceof R; })()`, `true`},
		{"constructor without new", `Response('x')`, "throws TypeError: Failed to construct 'Response': Please use the 'new' operator, this object constructor cannot be called as a function."},
		{"illegal invocation", `Response.prototype.text.call({})`, "throws TypeError: Illegal invocation: function called with incorrect `this` reference."},
		{"Headers is iterable", `[...new Headers({ b: '2', a: '1' }).entries()]`, `[["a","1"],["b","2"]]`},
		{"request clone keeps headers", `(() => { const r = new Request('https://a.example', { headers: { x: '1' } }); const c = r.clone(); c.headers.set('x', '2'); return [r.headers.get('x'), c.headers.get('x')]; })()`, `["1","2"]`},
		{"env import", `(async () => (await import('cloudflare:workers')).env)()`, "{}"},

		// Globals.
		{"globalThis and self", `[self === globalThis, typeof globalThis.fetch, typeof setTimeout]`, `[true,"function","function"]`},
		{"assigning a global shadows ours", `(() => { globalThis.atob = () => 'mine'; return atob('x'); })()`, `mine`},
		{"navigator", `navigator.userAgent`, `Cloudflare-Workers`},
		{"performance.now advances", `(async () => { const a = performance.now(); await new Promise((r) => setTimeout(r, 5)); return performance.now() - a >= 4; })()`, `true`},
		{"structuredClone of a Blob", `(async () => { const b = structuredClone(new Blob(['hi'], { type: 'text/x' })); return [b instanceof Blob, b.type, await b.text()]; })()`, `[true,"text/x","hi"]`},
		{"Symbol.asyncIterator", `typeof Symbol.asyncIterator`, `symbol`},
		{"TextDecoderStream", `(async () => { const s = new Blob(['héllo']).stream().pipeThrough(new TextDecoderStream()); let out = ''; for await (const c of s) out += c; return out; })()`, `héllo`},
		{"crypto is not writable by accident", `(() => { crypto.subtle = null; return typeof crypto.subtle; })()`, `object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst := load(t, evalWorker(tc.expr), nil, nil)
			rec, err := do(t, inst, "GET", "http://x/", "", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Body.String()
			if got != tc.want && !(strings.HasSuffix(tc.want, "throws") && strings.HasPrefix(got, "throws")) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestConsoleAndUncaughtErrorsAreLogged(t *testing.T) {
	lg := &memLogs{}
	inst := load(t, `export default { async fetch() {
  console.log('plain', 1, { a: [1, 2] }, new Map([[1, 2]]));
  console.warn('%s has %d items', 'cart', 3);
  console.error(new TypeError('bad'));
  console.debug(new Headers({ a: '1' }));
  Promise.reject(new Error('nobody handles me'));
  setTimeout(() => { throw new RangeError('in a timer') }, 0);
  await new Promise((r) => setTimeout(r, 5));
  return new Response('ok');
} }`, nil, lg)
	if _, err := do(t, inst, "GET", "http://x/", "", time.Second); err != nil {
		t.Fatal(err)
	}
	got := lg.text()
	for _, want := range []string{
		"info plain 1 { a: [ 1, 2 ] } Map(1) { 1 => 2 }",
		"warn cart has 3 items",
		"error TypeError: bad",
		`debug Headers { "a" => "1" }`,
		"error Uncaught (in promise) Error: nobody handles me",
		"error Uncaught RangeError: in a timer",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
}

// Nothing one invocation scheduled runs during the next.
func TestTimersEndWithTheirInvocation(t *testing.T) {
	lg := &memLogs{}
	inst := load(t, `let n = 0; export default { fetch() { n++; const mine = n; setTimeout(() => console.log('late timer of', mine), 50); return new Response(String(n)); } }`, nil, lg)
	for i := 1; i <= 2; i++ {
		rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
		if err != nil || rec.Body.String() != string(rune('0'+i)) {
			t.Fatalf("%v %q", err, rec.Body.String())
		}
	}
	time.Sleep(80 * time.Millisecond) // long after the timers' deadlines
	if _, err := do(t, inst, "GET", "http://x/", "", time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(lg.text(), "late timer") {
		t.Fatalf("a timer outlived its invocation:\n%s", lg.text())
	}
}

func TestBadResponses(t *testing.T) {
	tests := []struct {
		name, src, msg string
	}{
		{"Response.error()", `export default { fetch() { return Response.error() } }`, "Response.error()"},
		{"used body", `export default { async fetch() { const r = new Response('x'); await r.text(); return r; } }`, "already used"},
		{"a plain object", `export default { fetch() { return { status: 200 } } }`, "returned an Object, not a Response"},
		{"undefined", `export default { async fetch() {} }`, "returned undefined, not a Response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst := load(t, tc.src, nil, nil)
			_, err := do(t, inst, "GET", "http://x/", "", time.Second)
			re, ok := err.(*runtime.Error)
			if !ok || re.Kind != runtime.BadResponse || !strings.Contains(re.Message, tc.msg) {
				t.Fatalf("err = %v, want BadResponse mentioning %q", err, tc.msg)
			}
		})
	}
}

// A class default export (WorkerEntrypoint style) gets a new object per
// invocation, built with (ctx, env).
func TestClassEntrypoint(t *testing.T) {
	inst := load(t, `import { WorkerEntrypoint, env as importedEnv } from 'cloudflare:workers';
let made = 0;
export default class extends WorkerEntrypoint {
  constructor(ctx, env) { super(ctx, env); made++; }
  fetch(request) { return Response.json({ made, name: this.env.NAME, same: importedEnv === this.env, ctx: typeof this.ctx.waitUntil }); }
}`, map[string]any{"NAME": "svc"}, nil)
	for i, want := range []string{`{"made":1,"name":"svc","same":true,"ctx":"function"}`, `{"made":2,"name":"svc","same":true,"ctx":"function"}`} {
		rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
		if err != nil || rec.Body.String() != want {
			t.Fatalf("request %d: %v %s", i, err, rec.Body.String())
		}
	}
}

func TestDurableObjectsAreRefusedClearly(t *testing.T) {
	inst := load(t, `import { DurableObject } from 'cloudflare:workers';
export default { fetch() { class Counter extends DurableObject {} new Counter(); return new Response('no'); } }`, nil, nil)
	_, err := do(t, inst, "GET", "http://x/", "", time.Second)
	if err == nil || !strings.Contains(err.Error(), "Durable Objects (DurableObject from cloudflare:workers) are not supported by wisp") {
		t.Fatalf("err = %v", err)
	}
}

// As on Workers, a worker's top level may not do I/O or set timers.
func TestGlobalScopeRefusesIOAndTimers(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"fetch", `const p = fetch('https://x.example/'); export default { async fetch() { try { await p; return new Response('reached') } catch (e) { return new Response(e.message) } } }`},
		{"setTimeout", `let msg = 'none'; try { setTimeout(() => {}, 1) } catch (e) { msg = e.message } export default { fetch() { return new Response(msg) } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := load(t, tc.src, nil, nil)
			rec, err := do(t, inst, "GET", "http://x/", "", time.Second)
			if err != nil || !strings.HasPrefix(rec.Body.String(), "Disallowed operation called within global scope.") {
				t.Fatalf("%v %q", err, rec.Body.String())
			}
		})
	}
}
