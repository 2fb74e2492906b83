package js

import (
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// limits are a version's resource limits, from its manifest.
type limits struct {
	memoryMB  int
	timeoutMS int
}

func limitsOf(spec runtime.Spec) limits {
	l := limits{memoryMB: manifest.DefaultMemoryMB, timeoutMS: manifest.DefaultTimeoutMS}
	if m := spec.Manifest; m != nil {
		if m.Limits.MemoryMB > 0 {
			l.memoryMB = m.Limits.MemoryMB
		}
		if m.Limits.TimeoutMS > 0 {
			l.timeoutMS = m.Limits.TimeoutMS
		}
	}
	return l
}

func (l limits) memoryBytes() int64 { return int64(l.memoryMB) << 20 }

// maxBodyBytes bounds a body a worker reads whole into memory.
func (l limits) maxBodyBytes() int64 { return l.memoryBytes() / 2 }
