package js

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
)

// producer records what a worker sends; fail makes Send fail.
type producer struct {
	mu   sync.Mutex
	sent [][]binding.Message
	fail error
}

func (p *producer) Send(ctx context.Context, msgs []binding.Message) error {
	if ctx == nil {
		return errors.New("no context")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.sent = append(p.sent, msgs)
	return nil
}

func TestQueueProducer(t *testing.T) {
	src := `export default { async fetch(req, env) {
  const what = new URL(req.url).pathname.slice(1);
  try {
    switch (what) {
    case 'json': await env.ORDERS.send({ id: 1, lines: ['a'] }); break;
    case 'text': await env.ORDERS.send('hello', { contentType: 'text', delaySeconds: 0 }); break;
    case 'bytes': await env.ORDERS.send(new Uint8Array([1, 2, 3]), { contentType: 'bytes', delaySeconds: 30 }); break;
    case 'batch': await env.ORDERS.sendBatch([{ body: 1 }, { body: 'two', contentType: 'text', delaySeconds: 5 }], { delaySeconds: 9 }); break;
    case 'batch-iterable': await env.ORDERS.sendBatch(new Set([{ body: [1] }])); break;
    case 'undefined': await env.ORDERS.send(undefined); break;
    case 'v8': await env.ORDERS.send({}, { contentType: 'v8' }); break;
    case 'bad-type': await env.ORDERS.send(1, { contentType: 'xml' }); break;
    case 'text-not-string': await env.ORDERS.send(1, { contentType: 'text' }); break;
    case 'bytes-not-buffer': await env.ORDERS.send('x', { contentType: 'bytes' }); break;
    case 'delay-range': await env.ORDERS.send(1, { delaySeconds: 43201 }); break;
    case 'delay-fraction': await env.ORDERS.send(1, { delaySeconds: 1.5 }); break;
    case 'empty-batch': await env.ORDERS.sendBatch([]); break;
    case 'batch-not-object': await env.ORDERS.sendBatch([1]); break;
    case 'store-fails': await env.FAILING.send(1); break;
    }
    return new Response('ok');
  } catch (e) {
    return new Response(e.name + ': ' + e.message, { status: 500 });
  }
} }`
	ok, failing := &producer{}, &producer{fail: errors.New("queue stream unavailable")}
	env := &binding.Env{Queues: map[string]binding.Producer{"ORDERS": ok, "FAILING": failing}}
	inst := loadWith(t, src, limitsConfig{env: env}, nil)
	tests := []struct {
		path string
		want string // response body
		sent string // what ORDERS received
	}{
		{"json", "ok", `[{[123 34 105 100 34 58 49 44 34 108 105 110 101 115 34 58 91 34 97 34 93 125] json -1}]`},
		{"text", "ok", `[{[104 101 108 108 111] text 0}]`},
		{"bytes", "ok", `[{[1 2 3] bytes 30}]`},
		{"batch", "ok", `[{[49] json 9} {[116 119 111] text 5}]`},
		{"batch-iterable", "ok", `[{[91 49 93] json -1}]`},
		{"undefined", "TypeError: send: the body is undefined, which JSON cannot encode", ""},
		{"v8", `TypeError: send: contentType "v8" (V8 serialization) is not supported by wisp; use "json", "text" or "bytes"`, ""},
		{"bad-type", `TypeError: send: contentType "xml" is not one of "json", "text", "bytes"`, ""},
		{"text-not-string", `TypeError: send: a "text" message's body must be a string`, ""},
		{"bytes-not-buffer", `TypeError: send: a "bytes" message's body must be an ArrayBuffer or a typed array`, ""},
		{"delay-range", "RangeError: send: delaySeconds must be a whole number from 0 to 43200 (12 hours), got 43201", ""},
		{"delay-fraction", "RangeError: send: delaySeconds must be a whole number from 0 to 43200 (12 hours), got 1.5", ""},
		{"empty-batch", "TypeError: sendBatch: there are no messages to send", ""},
		{"batch-not-object", "TypeError: sendBatch: message 0 must be an object with a body", ""},
		{"store-fails", "Error: queue stream unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ok.mu.Lock()
			ok.sent = nil
			ok.mu.Unlock()
			rec, err := do(t, inst, "POST", "http://x/"+tt.path, "", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Fatalf("answer %q, want %q", got, tt.want)
			}
			ok.mu.Lock()
			defer ok.mu.Unlock()
			got := ""
			if len(ok.sent) > 0 {
				got = fmt.Sprint(ok.sent[0])
			}
			if got != tt.sent || len(ok.sent) > 1 {
				t.Errorf("sent %v, want %s", ok.sent, tt.sent)
			}
		})
	}
}
