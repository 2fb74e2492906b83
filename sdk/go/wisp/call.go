package wisp

import (
	"unsafe"
)

// Return codes of host functions (docs/abi.md).
const (
	codeAbsent      = -1
	codeBadInput    = -3
	codeUnavailable = -100 // not an ABI code: no host (see abi_other.go)
)

// scratch receives results that fit; larger ones are fetched with
// result_read. Host calls never run concurrently: wasm has one thread and
// a host call does not yield to other goroutines.
var scratch [16 << 10]byte

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// result makes a host call that produces data and returns a copy of it.
func result(op string, call func(buf unsafe.Pointer, bufCap uint32) int32) ([]byte, error) {
	n := call(unsafe.Pointer(&scratch[0]), uint32(len(scratch)))
	if n < 0 {
		return nil, callError(op, n)
	}
	out := make([]byte, n)
	if int(n) <= len(scratch) {
		copy(out, scratch[:n])
	} else if got := hResultRead(bytesPtr(out), uint32(n)); got != n {
		return nil, &Error{Op: op, Code: CodeFailed, Message: op + ": result_read returned a short result"}
	}
	return out, nil
}

// status turns the code of a host call that produces no data into an error.
func status(op string, rc int32) error {
	if rc < 0 {
		return callError(op, rc)
	}
	return nil
}

func callError(op string, rc int32) error {
	switch rc {
	case codeAbsent:
		return ErrNotFound
	case codeUnavailable:
		return ErrUnavailable
	}
	var small [1024]byte
	buf := small[:]
	n := hErrorRead(unsafe.Pointer(&buf[0]), uint32(len(buf)))
	if int(n) > len(buf) { // a long message (it may quote a long key): read it whole
		buf = make([]byte, n)
		n = hErrorRead(unsafe.Pointer(&buf[0]), uint32(len(buf)))
	}
	msg := string(buf[:max(0, min(int(n), len(buf)))])
	return &Error{Op: op, Code: int(rc), Message: msg}
}
