//go:build !linux

package node

// totalMemory is unknown off Linux: no default memory limit is set.
func totalMemory() int64 { return 0 }
