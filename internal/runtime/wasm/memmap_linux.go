package wasm

import "syscall"

// adviseHugePages asks for transparent huge pages on b (honoured when the
// system's transparent_hugepage setting is "madvise" or "always").
func adviseHugePages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
