package wasm

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// sizedAllocator backs an instance's linear memory with a Go slice (for
// modules whose instances wazero may close while they run, and systems
// where memmap_unix.go's mappedAllocator is not built) whose
// capacity starts at the size the module's instances had once started
// (recorded with noteStarted), and grows by half past it. wazero's default
// grows the slice to exactly each new size, and the Go runtime grows its
// memory in many small steps while it starts: copying the whole memory at
// each step was a quarter of a Go instance's start-up.
type sizedAllocator struct{ started *atomic.Uint64 }

func (a sizedAllocator) Allocate(capacity, max uint64) experimental.LinearMemory {
	initial := a.started.Load()
	if initial == 0 {
		// No instance has started in this process yet (the first request
		// after a node starts): a Go guest about doubles its initial memory
		// while it starts.
		initial = 2 * capacity
	}
	return &sizedMemory{max: max, initial: min(max, initial)}
}

// noteStarted records the memory size of an instance that has just
// started, for the next instances' first allocation.
func noteStarted(started *atomic.Uint64, size uint64) {
	for {
		p := started.Load()
		if size <= p || started.CompareAndSwap(p, size) {
			return
		}
	}
}

type sizedMemory struct {
	buf          []byte
	max, initial uint64
}

func (m *sizedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size > uint64(cap(m.buf)) {
		c := min(max(size, 2*uint64(cap(m.buf)), m.initial), m.max)
		if cap(m.buf) > 0 {
			c = min(max(size, uint64(cap(m.buf))+uint64(cap(m.buf))/2), m.max)
		}
		nb := make([]byte, size, c)
		copy(nb, m.buf)
		m.buf = nb
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *sizedMemory) Free() { m.buf = nil }
