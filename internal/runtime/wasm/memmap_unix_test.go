//go:build linux || darwin

package wasm

import (
	"testing"
	"unsafe"
)

// TestMappedMemory grows a mapped memory past the huge-page size and checks
// that it stays in place, keeps what was written, starts zeroed, refuses
// to pass its cap and refuses everything once freed.
func TestMappedMemory(t *testing.T) {
	const max = 16 << 20
	m := mappedAllocator{}.Allocate(0, max)
	var base unsafe.Pointer
	for i, size := range []uint64{pageSize, 3 * pageSize, hugePageMin + pageSize, max} {
		b := m.Reallocate(size)
		if uint64(len(b)) != size {
			t.Fatalf("step %d: Reallocate(%d) gave %d bytes", i, size, len(b))
		}
		if i == 0 {
			base = unsafe.Pointer(unsafe.SliceData(b))
		} else if unsafe.Pointer(unsafe.SliceData(b)) != base {
			t.Fatalf("step %d: the memory moved", i)
		}
		if i > 0 && b[0] != byte(i) {
			t.Fatalf("step %d: first byte %d, want %d (written before growing)", i, b[0], i)
		}
		if b[size-1] != 0 {
			t.Fatalf("step %d: new memory is not zeroed", i)
		}
		b[0], b[size-1] = byte(i+1), 0xff
	}
	if b := m.Reallocate(max + pageSize); b != nil {
		t.Fatal("grew past the cap")
	}
	m.Free()
	if b := m.Reallocate(pageSize); b != nil {
		t.Fatal("a freed memory gave memory")
	}
	m.Free() // twice is harmless
}

// TestMappedMemoryFallback: a mapping the system refuses (here one of no
// bytes) gives a Go slice instead of failing the instance.
func TestMappedMemoryFallback(t *testing.T) {
	m := mappedAllocator{}.Allocate(0, 0)
	if b := m.Reallocate(0); len(b) != 0 {
		t.Fatalf("Reallocate(0) of a 0-byte memory: %v", b)
	}
	m.Free()
}
