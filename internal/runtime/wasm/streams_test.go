package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// streamHost calls the stream host functions directly on a one-page
// memory, with a request in flight, as wazero would.
type streamHost struct {
	t     testing.TB
	inst  api.Module
	r     *reactor
	files *memBucket
}

func newStreamHost(t testing.TB) *streamHost {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	inst, err := rt.Instantiate(ctx, memoryModule)
	if err != nil {
		t.Fatal(err)
	}
	g := newGuestEnv()
	spec := runtime.Spec{Service: "svc", Version: "v1", Manifest: &manifest.Manifest{Name: "svc"}, Env: g.env}
	r := &reactor{mod: &module{spec: spec}, ctx: ctx}
	r.req = &runtime.Request{ID: "streams", Method: "GET", URL: "http://svc.test/", Header: http.Header{}}
	r.w = httptest.NewRecorder()
	t.Cleanup(r.closeStreams)
	return &streamHost{t: t, inst: inst, r: r, files: g.files}
}

// put writes b at offset off of guest memory and returns its span.
func (h *streamHost) put(off uint32, b string) (uint32, uint32) {
	if !h.inst.Memory().Write(off, []byte(b)) {
		h.t.Fatalf("write %d bytes at %d", len(b), off)
	}
	return off, uint32(len(b))
}

func (h *streamHost) call(name string, p ...uint32) int32 {
	h.t.Helper()
	hf := hostFuncs[name]
	if len(p) != hf.params {
		h.t.Fatalf("%s takes %d parameters, not %d", name, hf.params, len(p))
	}
	return hf.fn(h.r, h.inst, p)
}

func (h *streamHost) read(off, n uint32) []byte {
	b, _ := h.inst.Memory().Read(off, n)
	return bytes.Clone(b)
}

// TestStreams: a streamed put stores only when finished; an object opened
// for reading is read in pieces to its end; handles are checked; open
// streams are bounded and closed when the call ends.
func TestStreams(t *testing.T) {
	h := newStreamHost(t)
	bp, bn := h.put(0, "FILES")
	kp, kn := h.put(16, "big.bin")
	op, on := h.put(32, `{"content_type":"application/x-test","http_metadata":{"cache_control":"no-store"}}`)

	w := h.call("object_put_stream", bp, bn, kp, kn, op, on)
	if w <= 0 {
		t.Fatalf("object_put_stream = %d (%s)", w, h.r.errMsg)
	}
	dp, dn := h.put(200, strings.Repeat("x", 1000))
	for range 5 {
		if rc := h.call("stream_write", uint32(w), dp, dn); rc != 0 {
			t.Fatalf("stream_write = %d (%s)", rc, h.r.errMsg)
		}
	}
	if rc := h.call("stream_read", uint32(w), 2000, 100); rc != codeBadInput || !strings.Contains(h.r.errMsg, "being written") {
		t.Fatalf("stream_read of a put = %d (%s)", rc, h.r.errMsg)
	}
	n := h.call("stream_finish", uint32(w), 4096, 4096)
	var info objectInfoJSON
	if n <= 0 || json.Unmarshal(h.read(4096, uint32(n)), &info) != nil || info.Size != 5000 || info.ContentType != "application/x-test" {
		t.Fatalf("stream_finish = %d %+v (%s)", n, info, h.r.errMsg)
	}
	if rc := h.call("stream_write", uint32(w), dp, dn); rc != codeBadInput {
		t.Fatalf("write after finish = %d", rc)
	}

	// Read it back in pieces of 777 bytes.
	n = h.call("object_open", bp, bn, kp, kn, 0, 0, 4096, 4096)
	if n <= 0 || json.Unmarshal(h.read(4096, uint32(n)), &info) != nil || info.Stream <= 0 || info.Range == nil {
		t.Fatalf("object_open = %d %+v (%s)", n, info, h.r.errMsg)
	}
	total := 0
	for {
		rc := h.call("stream_read", uint32(info.Stream), 8192, 777)
		if rc < 0 || rc > 777 {
			t.Fatalf("stream_read = %d (%s)", rc, h.r.errMsg)
		}
		if rc == 0 {
			break
		}
		total += int(rc)
	}
	if total != 5000 {
		t.Fatalf("read %d bytes, want 5000", total)
	}
	if rc := h.call("stream_read", uint32(info.Stream), 8192, 0); rc != codeBadInput {
		t.Fatalf("stream_read with no room = %d", rc)
	}
	if rc := h.call("stream_close", uint32(info.Stream)); rc != 0 {
		t.Fatalf("stream_close = %d", rc)
	}
	if rc := h.call("stream_close", uint32(info.Stream)); rc != codeBadInput {
		t.Fatalf("second stream_close = %d", rc)
	}

	// A put closed before it is finished stores nothing.
	k2p, k2n := h.put(48, "half.bin")
	w = h.call("object_put_stream", bp, bn, k2p, k2n, 0, 0)
	h.call("stream_write", uint32(w), dp, dn)
	if rc := h.call("stream_close", uint32(w)); rc != 0 {
		t.Fatalf("stream_close of a put = %d", rc)
	}
	if o, _ := h.files.Head(context.Background(), "half.bin"); o != nil {
		t.Fatal("an aborted put stored an object")
	}

	// At most maxStreams open; the end of the call closes (and aborts) them.
	for i := range maxStreams {
		if rc := h.call("object_put_stream", bp, bn, k2p, k2n, 0, 0); rc <= 0 {
			t.Fatalf("stream %d: %d (%s)", i, rc, h.r.errMsg)
		}
	}
	if rc := h.call("object_open", bp, bn, kp, kn, 0, 0, 4096, 4096); rc != codeState {
		t.Fatalf("stream %d: %d, want STATE", maxStreams+1, rc)
	}
	h.r.closeStreams()
	if len(h.r.streams) != 0 {
		t.Fatalf("%d streams left open", len(h.r.streams))
	}
	if o, _ := h.files.Head(context.Background(), "half.bin"); o != nil {
		t.Fatal("a put left open when the call ended stored an object")
	}
}

// TestEnvListAndMetadata: env_list names every binding, var and secret
// with its kind; kv_get_with_metadata gives the metadata and expiration.
func TestEnvListAndMetadata(t *testing.T) {
	h := newStreamHost(t)
	n := h.call("env_list", 0, 4096)
	ss, _, err := parseList(h.read(0, uint32(n)))
	if err != nil {
		t.Fatal(err)
	}
	// By name: BACKEND FILES JOBS LIMITS NAME STORE TOKEN.
	want := "service BACKEND bucket FILES queue JOBS var LIMITS var NAME kv STORE secret TOKEN"
	if got := strings.Join(ss, " "); got != want {
		t.Fatalf("env_list = %q, want %q", got, want)
	}

	kv := h.r.mod.spec.Env.KV["STORE"]
	if err := kv.Put(context.Background(), "k", []byte("v1"), binding.KVPutOptions{Metadata: json.RawMessage(`{"a":1}`), Expiration: 4000000000}); err != nil {
		t.Fatal(err)
	}
	bp, bn := h.put(0, "STORE")
	kp, kn := h.put(16, "k")
	n = h.call("kv_get_with_metadata", bp, bn, kp, kn, 1024, 1024)
	out := h.read(1024, uint32(n))
	head, used, err := parseList(out)
	if err != nil || len(head) != 1 || string(out[used:]) != "v1" {
		t.Fatalf("kv_get_with_metadata = %q", out)
	}
	var e kvEntryJSON
	if json.Unmarshal([]byte(head[0]), &e) != nil || string(e.Metadata) != `{"a":1}` || e.Expiration != 4000000000 {
		t.Fatalf("entry = %s", head[0])
	}
	kp, kn = h.put(16, "absent")
	if rc := h.call("kv_get_with_metadata", bp, bn, kp, kn, 1024, 1024); rc != codeAbsent {
		t.Fatalf("absent key = %d", rc)
	}
}

// FuzzStreams calls the stream functions with hostile handles, spans and
// memory while a read stream and a write stream are open. A call may
// return any code or trap; it must never panic otherwise, hang or leave a
// put running after the call ends.
//
//	go test ./internal/runtime/wasm -run XXX -fuzz FuzzStreams
func FuzzStreams(f *testing.F) {
	names := []string{"object_open", "object_put_stream", "stream_read", "stream_write", "stream_finish", "stream_close"}
	for i := range names {
		f.Add(uint8(i), []byte("FILES\x00\x00\x00a"), seedParams(1, 0, 5, 8, 1, 0, 0, 100, 64))
		f.Add(uint8(i), []byte{}, seedParams(2, 65535, 2, 0xffffffff, 1))
		f.Add(uint8(i), []byte("FILES"), seedParams(0xffffffff, 0, 5, 0, 0, 0, 0, 65536, 0))
	}
	f.Fuzz(func(t *testing.T, which uint8, memory []byte, params []byte) {
		h := newStreamHost(t)
		all, _ := h.inst.Memory().Read(0, h.inst.Memory().Size())
		copy(all, memory)
		h.files.m["a"] = memObject{info: binding.ObjectInfo{Key: "a", Size: 3}, body: []byte("abc")}
		obj, _ := h.files.Get(context.Background(), "a", binding.ObjectGetOptions{})
		h.r.addStream(&stream{body: obj.Body}) // handle 1
		ctx := context.Background()
		s := &stream{res: make(chan putResult, 1)}
		pr, pw := io.Pipe()
		s.pw = pw
		go func() {
			info, err := h.files.Put(ctx, "w", pr, binding.ObjectPutOptions{})
			pr.CloseWithError(err)
			s.res <- putResult{info, err}
		}()
		h.r.addStream(s) // handle 2
		name := names[int(which)%len(names)]
		hf := hostFuncs[name]
		p := make([]uint32, hf.params)
		for i := range p {
			if len(params) >= 4 {
				p[i] = binary.LittleEndian.Uint32(params)
				params = params[4:]
			}
		}
		var rc int32
		func() {
			defer func() {
				if v := recover(); v != nil {
					if _, ok := v.(*trapError); !ok {
						t.Fatalf("%s%v panicked with %T: %v", name, p, v, v)
					}
					rc = 1 << 30
				}
			}()
			rc = hf.fn(h.r, h.inst, p)
		}()
		if rc != 1<<30 && rc < 0 && rc != codeAbsent && h.r.errMsg == "" {
			t.Fatalf("%s%v returned %d without a message", name, p, rc)
		}
		h.r.closeStreams()
		if len(h.r.streams) != 0 {
			t.Fatalf("%d streams left after closeStreams", len(h.r.streams))
		}
	})
}
