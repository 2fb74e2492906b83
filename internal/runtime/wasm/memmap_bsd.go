//go:build darwin || freebsd

package wasm

// adviseHugePages does nothing: these systems have no madvise for it.
func adviseHugePages([]byte) {}
