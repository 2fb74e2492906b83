package wasm

import (
	"context"
	"strings"
	"testing"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// sec encodes one section.
func sec(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }

func wasmModule(sections ...[]byte) []byte {
	out := append([]byte(nil), wasmHeader...)
	for _, s := range sections {
		out = append(out, s...)
	}
	return out
}

var (
	typeVoid     = sec(1, 1, 0x60, 0, 0)  // type 0: () -> ()
	funcOne      = sec(3, 1, 0)           // one function of type 0
	memOnePage   = sec(5, 1, 0, 1)        // memory, min 1 page
	codeEmpty    = sec(10, 1, 2, 0, 0x0b) // its body: nothing
	exportMemory = []byte{6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0}
)

func exports(entries ...[]byte) []byte {
	body := []byte{byte(len(entries))}
	for _, e := range entries {
		body = append(body, e...)
	}
	return sec(7, body...)
}

func exportFunc(name string) []byte {
	return append(append([]byte{byte(len(name))}, name...), 0, 0)
}

func importFunc(mod, name string) []byte {
	b := []byte{1, byte(len(mod))}
	b = append(b, mod...)
	b = append(b, byte(len(name)))
	b = append(b, name...)
	return sec(2, append(b, 0, 0)...)
}

// TestLoadErrors: a module wisp cannot run is refused at load (deploy)
// with what is wrong.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name        string
		code        []byte
		memMB       int
		expectedErr string
	}{
		{"not wasm", []byte("#!/bin/sh\necho hi\n"), 0, "compile svc.wasm:"},
		{"no entry point", wasmModule(memOnePage, exports(exportMemory)), 0, "exports neither _start (a WASI command, run as CGI) nor wisp_abi_v1 (the wisp ABI)"},
		{"no memory", wasmModule(typeVoid, funcOne, exports(exportFunc("_start")), codeEmpty), 0, `exports no memory named "memory"`},
		{"foreign import", wasmModule(typeVoid, importFunc("env", "foo"), memOnePage, exports(exportMemory)), 0, "imports env.foo; a module may import only wasi_snapshot_preview1 and wisp"},
		{"unknown wisp function", wasmModule(typeVoid, importFunc("wisp", "teleport"), memOnePage, exports(exportMemory)), 0, "imports wisp.teleport, which ABI v1 does not have"},
		{"memory over the limit", wasmModule(typeVoid, funcOne, sec(5, 1, 0, 0x80, 0x04), exports(exportMemory, exportFunc("_start")), codeEmpty), 16, "min 512 pages (32 Mi) over limit of 256 pages (16 Mi); the limit is [limits] memory_mb"},
		{"abi marker without handler", wasmModule(typeVoid, funcOne, memOnePage, exports(exportMemory, exportFunc("wisp_abi_v1")), codeEmpty), 0, "exports wisp_abi_v1 but not wisp_handle() -> i32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &manifest.Manifest{Name: "svc", Wasm: "svc.wasm"}
			m.Limits.MemoryMB = tc.memMB
			_, err := sharedEngine.Load(context.Background(), runtime.Spec{Service: "svc", Manifest: m, Code: tc.code, Env: &binding.Env{}})
			if err == nil || !strings.Contains(err.Error(), tc.expectedErr) {
				t.Fatalf("got %v, want an error with %q", err, tc.expectedErr)
			}
		})
	}
}
