//go:build linux || darwin

package wasm

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mappedAllocator backs an instance's linear memory with its own anonymous
// mapping: the whole cap ([limits] memory_mb) is reserved at once with no
// access, and each memory.grow makes the next pages readable and writable
// in place. Growing never copies (the Go runtime grows its memory in many
// small steps while it starts), the kernel hands out zeroed pages only when
// they are first touched (a Go heap slice of the same size is cleared whole
// when the heap reuses memory), and closing the instance gives the memory
// straight back to the system instead of waiting for a garbage collection.
//
// The mapping is unmapped when wazero frees the memory (the instance is
// closed), so nothing may use the memory after that: this holds only for
// modules with interrupt checks (interrupt.go), whose calls return before
// the instance is closed. With wazero's own checks, wazero closes an
// instance while its guest is still running (WithCloseOnContextDone); those
// use sizedAllocator.
type mappedAllocator struct{}

func (mappedAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	return &mappedMemory{max: max}
}

type mappedMemory struct {
	mem       []byte // the whole reservation (len max), nil until used
	max       uint64
	writable  uint64 // bytes from the start that are readable and writable
	freed     bool
	hugePages bool
	// fallback holds the memory when the system refused the mapping (too
	// many mappings, no address space): wazero cannot take a failed first
	// allocation, so the instance gets a Go slice as before.
	fallback *sizedMemory
}

// hugePageMin is the memory size from which a mapping asks for transparent
// huge pages: one fault then maps 2 MiB instead of 4 KiB, which a Go
// guest (megabytes touched while it starts) gains from and a small C
// guest (a few pages per request) would pay for.
const hugePageMin = 4 << 20

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > m.max || m.freed {
		return nil
	}
	if m.fallback != nil {
		return m.fallback.Reallocate(size)
	}
	if m.mem == nil {
		b, err := syscall.Mmap(-1, 0, int(m.max), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil || m.max == 0 {
			m.fallback = &sizedMemory{max: m.max}
			return m.fallback.Reallocate(size)
		}
		m.mem = b
	}
	if size > m.writable {
		// Opened in steps of 2 MiB (the memory stays bounded by size:
		// wazero checks accesses against the memory's length), so the
		// Go runtime's many small grows make few calls, and the writable
		// part ends where a huge page can.
		end := min((size+growStep-1)&^(growStep-1), m.max)
		if err := syscall.Mprotect(m.mem[m.writable:end], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
			return nil
		}
		if !m.hugePages && end >= hugePageMin {
			m.hugePages = true
			adviseHugePages(m.mem)
		}
		m.writable = end
	}
	return m.mem[:size:size]
}

func (m *mappedMemory) Free() {
	if m.mem != nil {
		_ = syscall.Munmap(m.mem)
		m.mem = nil
	}
	m.fallback = nil
	m.freed = true
}

// growStep is how much more memory is made writable at a time: a
// multiple of any system's page size and of a wasm page (64 KiB), and the
// size of a transparent huge page.
const growStep = 2 << 20

// newMemoryAllocator picks the allocator for a module's instances.
func (m *module) newMemoryAllocator() experimental.MemoryAllocator {
	if m.interruptible {
		return mappedAllocator{}
	}
	return sizedAllocator{started: &m.startedSize}
}
