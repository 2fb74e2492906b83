//go:build !(linux || darwin)

package wasm

import "github.com/tetratelabs/wazero/experimental"

// newMemoryAllocator picks the allocator for a module's instances: Go
// slices (memalloc.go) where wisp does not map memory itself.
func (m *module) newMemoryAllocator() experimental.MemoryAllocator {
	return sizedAllocator{started: &m.startedSize}
}
