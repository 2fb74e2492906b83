package js

import (
	"unsafe"

	"github.com/dop251/goja"
)

// bufferBytes returns the bytes a BufferSource (ArrayBuffer, typed array,
// DataView) views, shared with JS (not copied), and whether v is one.
func (in *instance) bufferBytes(v goja.Value) ([]byte, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	switch x := o.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes(), true
	case []byte:
		return x, true
	case []int8:
		return sliceBytes(x), true
	case []uint16:
		return sliceBytes(x), true
	case []int16:
		return sliceBytes(x), true
	case []uint32:
		return sliceBytes(x), true
	case []int32:
		return sliceBytes(x), true
	case []float32:
		return sliceBytes(x), true
	case []float64:
		return sliceBytes(x), true
	case []int64:
		return sliceBytes(x), true
	case []uint64:
		return sliceBytes(x), true
	case map[string]any:
		if in.vm.InstanceOf(o, in.vm.Get("DataView").ToObject(in.vm)) {
			buf, _ := o.Get("buffer").Export().(goja.ArrayBuffer)
			off, n := int(o.Get("byteOffset").ToInteger()), int(o.Get("byteLength").ToInteger())
			b := buf.Bytes()
			if off >= 0 && n >= 0 && off+n <= len(b) {
				return b[off : off+n], true
			}
		}
	}
	return nil, false
}

func sliceBytes[T int8 | uint16 | int16 | uint32 | int32 | float32 | float64 | int64 | uint64](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

// newUint8Array makes a Uint8Array over b (not copied).
func (in *instance) newUint8Array(b []byte) goja.Value {
	if in.cache.uint8Array == nil {
		in.cache.uint8Array = in.vm.Get("Uint8Array")
	}
	o, err := in.vm.New(in.cache.uint8Array, in.vm.ToValue(in.vm.NewArrayBuffer(b)))
	if err != nil {
		panic(err)
	}
	return o
}

// newArrayBuffer makes an ArrayBuffer over b (not copied).
func (in *instance) newArrayBuffer(b []byte) goja.Value {
	return in.vm.ToValue(in.vm.NewArrayBuffer(b))
}

// bytesArg reads a BufferSource argument, or throws a TypeError naming
// what was expected.
func (in *instance) bytesArg(v goja.Value, what string) []byte {
	b, ok := in.bufferBytes(v)
	if !ok {
		in.throwTypeError(what + " must be an ArrayBuffer or ArrayBufferView")
	}
	return b
}
