package wasm

// adviseHugePages does nothing: macOS has no madvise for it.
func adviseHugePages([]byte) {}
