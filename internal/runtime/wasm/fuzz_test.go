package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// memoryModule is the smallest module with an exported one-page memory.
var memoryModule = []byte{
	0, 'a', 's', 'm', 1, 0, 0, 0,
	5, 3, 1, 0, 1, // memory section: one memory, min 1 page
	7, 10, 1, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, // export "memory"
}

func hostFuncNames() []string {
	names := make([]string, 0, len(hostFuncs))
	for n := range hostFuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FuzzHostFunctions calls every host function of ABI v1 with hostile
// pointers, lengths and memory contents. A call may return any code or
// trap with a *trapError (the guest is stopped); it must never panic with
// anything else, hang, or hand back a length it did not have.
//
//	go test ./internal/runtime/wasm -run XXX -fuzz FuzzHostFunctions
func FuzzHostFunctions(f *testing.F) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	inst, err := rt.Instantiate(ctx, memoryModule)
	if err != nil {
		f.Fatal(err)
	}
	names := hostFuncNames()
	// Seeds: each function with in-bounds, edge and wrapped-around spans.
	for i := range names {
		f.Add(uint8(i), []byte{}, seedParams(0, 0, 16, 16, 32, 64))
		f.Add(uint8(i), []byte("\x02\x00\x00\x00\x01\x00\x00\x00a\x01\x00\x00\x00b"), seedParams(0, 13, 0, 13, 100, 200, 300, 400, 500, 600))
		f.Add(uint8(i), []byte{0xff, 0xff, 0xff, 0xff}, seedParams(65535, 1, 65536, 0, 0xffffffff, 2, 0xfffffff0, 0x20))
		f.Add(uint8(i), []byte("{\"prefix\":\"a\"}"), seedParams(0, 14, 0, 14, 0, 14, 1000, 65536-1000, 0, 0))
	}
	env := newGuestEnv().env
	spec := runtime.Spec{Service: "svc", Version: "v1", Manifest: &manifest.Manifest{Name: "svc"}, Env: env}
	f.Fuzz(func(t *testing.T, which uint8, memory []byte, params []byte) {
		name := names[int(which)%len(names)]
		hf := hostFuncs[name]
		all, _ := inst.Memory().Read(0, inst.Memory().Size())
		clear(all)
		copy(all, memory)
		p := make([]uint32, hf.params)
		for i := range p {
			if len(params) >= 4 {
				p[i] = binary.LittleEndian.Uint32(params)
				params = params[4:]
			}
		}
		callHost(t, inst, &spec, name, hf, memory, p)
	})
}

func seedParams(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// callHost runs one host function as wazero would, with a request in
// flight, and checks what it did.
func callHost(t *testing.T, inst api.Module, spec *runtime.Spec, name string, hf hostFunc, memory []byte, p []uint32) {
	t.Helper()
	r := &reactor{mod: &module{spec: *spec}, ctx: t.Context()}
	r.req = &runtime.Request{ID: "fuzz", Method: "POST", URL: "http://svc.test/a?b=c", Header: http.Header{"X-A": {"1"}}, Body: []byte("body")}
	r.w = httptest.NewRecorder()
	defer r.closeStreams() // as at the end of every call into the guest
	var rc int32
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(*trapError); !ok {
					t.Fatalf("%s%v panicked with %T: %v", name, p, v, v)
				}
				rc = 1 << 30 // trapped
			}
		}()
		rc = hf.fn(r, inst, p)
	}()
	switch {
	case rc == 1<<30:
	case rc < codeState:
		t.Fatalf("%s%v returned unknown code %d", name, p, rc)
	case rc > maxResultBytes:
		t.Fatalf("%s%v returned length %d over the result limit", name, p, rc)
	case rc < 0 && rc != codeAbsent && r.errMsg == "":
		t.Fatalf("%s%v returned %d without a message", name, p, rc)
	}
	if r.result != nil && int32(len(r.result)) != rc {
		t.Fatalf("%s%v kept a result of %d bytes but returned %d", name, p, len(r.result), rc)
	}
}

// FuzzStringList: parseList never panics and reads back what appendList
// wrote.
func FuzzStringList(f *testing.F) {
	f.Add(appendList(nil, "GET", "http://x/", "id", "0", "a", "b"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, n, err := parseList(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		if again := appendList(nil, ss...); string(again) != string(b[:n]) {
			t.Fatalf("round trip changed the encoding")
		}
	})
}

// FuzzCGIResponse: parseCGI never panics, and what it accepts is a valid
// status with valid headers.
func FuzzCGIResponse(f *testing.F) {
	f.Add([]byte("Content-Type: text/plain\n\nhi"))
	f.Add([]byte("Status: 404 Not Found\r\nX: y\r\n\r\nbody"))
	f.Add([]byte("Location: /x\n\n"))
	f.Add([]byte("no headers"))
	f.Fuzz(func(t *testing.T, b []byte) {
		status, h, body, err := parseCGI(b)
		if err != nil {
			return
		}
		if status < 200 || status > 599 || len(h)%2 != 0 || len(body) > len(b) {
			t.Fatalf("accepted status %d, %d header strings", status, len(h))
		}
		for i := 0; i < len(h); i += 2 {
			if !validHeaderName(h[i]) || !validHeaderValue(h[i+1]) {
				t.Fatalf("accepted header %q: %q", h[i], h[i+1])
			}
		}
	})
}

// FuzzMergeDataSegments: the merge never panics, and a module it rewrote
// instantiates to the same memory as the original.
func FuzzMergeDataSegments(f *testing.F) {
	f.Add(dataModule([][2]uint32{{0, 4}, {8, 4}, {100, 2}}))
	f.Add(dataModule([][2]uint32{{16, 4}, {0, 4}}))
	f.Add(dataModule([][2]uint32{{0, 4}, {2, 4}}))
	f.Add(dataModule([][2]uint32{{0, 1}, {65530, 10}}))
	f.Fuzz(func(t *testing.T, code []byte) {
		out := mergeDataSegments(code)
		if bytes.Equal(out, code) {
			return
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		a, errA := rt.InstantiateWithConfig(ctx, code, wazero.NewModuleConfig().WithName("a"))
		b, errB := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName("b"))
		if (errA == nil) != (errB == nil) {
			t.Fatalf("original: %v; merged: %v", errA, errB)
		}
		if errA != nil {
			return
		}
		ma, _ := a.Memory().Read(0, a.Memory().Size())
		mb, _ := b.Memory().Read(0, b.Memory().Size())
		if !bytes.Equal(ma, mb) {
			t.Fatal("merged module's memory differs")
		}
	})
}

// dataModule makes a module with one page of exported memory and active
// data segments at the given offsets with the given lengths.
func dataModule(segs [][2]uint32) []byte {
	var data []byte
	data = binary.AppendUvarint(data, uint64(len(segs)))
	for i, s := range segs {
		data = append(data, 0, opI32Const)
		data = appendSLEB32(data, int32(s[0]))
		data = append(data, opEnd)
		data = binary.AppendUvarint(data, uint64(s[1]))
		for j := uint32(0); j < s[1]; j++ {
			data = append(data, byte(i+1))
		}
	}
	out := append([]byte(nil), memoryModule...)
	out = append(out, sectionData)
	out = binary.AppendUvarint(out, uint64(len(data)))
	return append(out, data...)
}

func TestMergeDataSegments(t *testing.T) {
	tests := []struct {
		name   string
		segs   [][2]uint32
		merged int // segments after; 0 means unchanged
	}{
		{"neighbours merge", [][2]uint32{{0, 4}, {8, 4}, {100, 2}}, 1},
		{"far apart stay apart", [][2]uint32{{0, 4}, {8000, 4}, {8010, 4}}, 2},
		{"out of order is sorted", [][2]uint32{{16, 4}, {0, 4}}, 1},
		{"overlap is left alone", [][2]uint32{{0, 4}, {2, 4}}, 0},
		{"one segment is left alone", [][2]uint32{{0, 4}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := dataModule(tc.segs)
			out := mergeDataSegments(code)
			if tc.merged == 0 {
				if !bytes.Equal(out, code) {
					t.Fatal("changed a module it should leave alone")
				}
				return
			}
			_, _, bodyStart, bodyEnd := findData(t, out)
			segs, err := parseDataSegments(out[bodyStart:bodyEnd])
			if err != nil || len(segs) != tc.merged {
				t.Fatalf("%d segments (%v), want %d", len(segs), err, tc.merged)
			}
		})
	}
	t.Run("go module", func(t *testing.T) {
		code := repoFile(t, "examples/hello-go/hello.wasm")
		_, _, s0, e0 := findData(t, code)
		before, _ := parseDataSegments(code[s0:e0])
		out := mergeDataSegments(code)
		_, _, s1, e1 := findData(t, out)
		after, _ := parseDataSegments(out[s1:e1])
		if len(before) < 1000 || len(after) > 20 {
			t.Fatalf("%d segments became %d", len(before), len(after))
		}
	})
}

func findData(t *testing.T, code []byte) (start, size, bodyStart, bodyEnd int) {
	t.Helper()
	for i := len(wasmHeader); i < len(code); {
		n, j, err := readU32(code, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if code[i] == sectionData {
			return i, int(n), j, j + int(n)
		}
		i = j + int(n)
	}
	t.Fatal("no data section")
	return
}

// FuzzInstrumentLoops: the loop rewrite never panics, and a module it
// rewrote compiles exactly when the original does.
func FuzzInstrumentLoops(f *testing.F) {
	f.Add(memoryModule)
	f.Add(dataModule([][2]uint32{{0, 4}}))
	// (func (loop (br 0))) exported as "f", with a global and an export.
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type () -> ()
		3, 2, 1, 0, // one function of type 0
		6, 6, 1, 0x7f, 0, 0x41, 7, 0x0b, // global i32 const 7
		7, 5, 1, 1, 'f', 0, 0, // export "f"
		10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, // code: loop br 0 end end
	})
	f.Fuzz(func(t *testing.T, code []byte) {
		out, err := instrumentLoops(code)
		if err != nil {
			return
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		_, errA := rt.CompileModule(ctx, code)
		_, errB := rt.CompileModule(ctx, out)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("original compiles: %v; instrumented: %v", errA, errB)
		}
	})
}

func TestInstrumentedLoopStops(t *testing.T) {
	code := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0,
		3, 2, 1, 0,
		5, 3, 1, 0, 1,
		7, 14, 2, 1, 'f', 0, 0, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0,
		10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b,
	}
	out, err := instrumentLoops(code)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	m := &module{rt: rt, compiled: compiled, interruptible: true}
	inst, err := m.instantiate(ctx, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = m.call(cctx, inst, inst.ExportedFunction("f"))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("the endless loop returned %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopped after %v", d)
	}
}
