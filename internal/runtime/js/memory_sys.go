package js

import (
	"reflect"

	"github.com/dop251/goja"
)

// funcEntry is the entry PC of a function.
func funcEntry(f func(func())) uintptr { return reflect.ValueOf(f).Pointer() }

// vmForInterrupt returns the runtime to interrupt, safe to call from the
// governor's goroutine.
func (in *instance) vmForInterrupt() *goja.Runtime { return in.vmRef.Load() }

// dropRuntime frees an idle instance's runtime after it went over its
// memory limit; the next invocation boots a new one. A busy instance is
// left alone: its invocation is interrupted instead.
func (in *instance) dropRuntime() {
	if !in.mu.TryLock() {
		return
	}
	defer in.mu.Unlock()
	if in.closed || in.vm == nil {
		return
	}
	in.broken = "it exceeded its memory limit"
	in.vmRef.Store(nil)
	in.vm, in.loop, in.classes, in.programs, in.globals, in.host = nil, nil, nil, nil, nil, nil
	in.handlers, in.handlerClass, in.env = nil, nil, nil
	in.cache = valueCache{}
}

// MemoryBytes is the instance's heap as the governor last measured it
// (dispatch.MemoryReporter: pools recycle instances that grow past a
// share of their limit between invocations). 0 when not measured.
func (in *instance) MemoryBytes() int64 {
	governor.mu.Lock()
	defer governor.mu.Unlock()
	id := in.slot.id
	if id == 0 || governor.slots[id] != in.slot {
		return 0
	}
	return governor.inuse[id]
}
