// Command abi-floor is the smallest Go guest of the wisp ABI that answers
// like examples/hello-go: no SDK and no net/http, only the host calls a
// request needs (request_head, then response). BenchmarkGoLadder measures
// it as the floor of a Go guest's cost: the host, the ABI and entering the
// Go runtime.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o guest.wasm .
package main

import "unsafe"

//go:wasmimport wisp request_head
//go:noescape
func requestHead(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp response
//go:noescape
func response(status int32, headers unsafe.Pointer, headersLen uint32, body unsafe.Pointer, bodyLen uint32) int32

var (
	scratch [16 << 10]byte
	// A string list: 2 strings, then each as a u32 length and its bytes.
	head = []byte("\x02\x00\x00\x00\x0c\x00\x00\x00Content-Type\x19\x00\x00\x00text/plain; charset=utf-8")
	body = []byte("Hello, world!")
)

//go:wasmexport wisp_abi_v1
func abiV1() {}

//go:wasmexport wisp_handle
func handle() int32 {
	n := requestHead(unsafe.Pointer(&scratch[0]), uint32(len(scratch)))
	if n < 0 || int(n) > len(scratch) {
		return 1
	}
	// Kept, as a guest that reads the request would keep it.
	_ = append([]byte(nil), scratch[:n]...)
	if response(200, unsafe.Pointer(&head[0]), uint32(len(head)), unsafe.Pointer(&body[0]), uint32(len(body))) < 0 {
		return 1
	}
	return 0
}

func main() {}
