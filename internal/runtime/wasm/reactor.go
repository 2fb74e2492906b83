package wasm

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/runtime"
)

// reactor is one instance of a wisp ABI module: instantiated once, then
// wisp_handle is called for each request. Host functions find it in the
// context of the call (reactorKey).
type reactor struct {
	mod    *module
	inst   api.Module
	handle api.Function
	stdout *logWriter
	stderr *logWriter
	// interrupt stops wisp_handle at its deadline (nil when the module
	// is not instrumented; wazero's own checks do it then).
	interrupt *interrupter
	stack     [1]uint64  // wisp_handle's result
	params    [10]uint32 // the parameters of the host call in progress

	// The call in progress. Set before calling into the guest and read by
	// host functions on the same goroutine.
	ctx      context.Context
	req      *runtime.Request // nil outside wisp_handle
	w        http.ResponseWriter
	bodyRead int
	headSent bool
	result   []byte // pending result (docs/abi.md: "results")
	errMsg   string // message of the last error code
	events   events // queue batches and cron ticks (events.go)

	// Object bodies open across host calls (abi_streams.go), closed when
	// the call into the guest ends.
	streams    map[int32]*stream
	nextStream int32
}

var (
	_ runtime.Instance        = (*reactor)(nil)
	_ dispatch.MemoryReporter = (*reactor)(nil)
)

type reactorKey struct{}

func newReactor(ctx context.Context, m *module) (*reactor, error) {
	r := &reactor{mod: m, ctx: ctx}
	r.stdout = newLogWriter(&m.spec, logs.Info)
	r.stderr = newLogWriter(&m.spec, logs.Error)
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(m.spec.Service).
		WithStartFunctions().
		WithStdout(r.stdout).
		WithStderr(r.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(r.sleep).
		WithRandSource(crand.Reader).
		// Go guests read it: their collector works harder before the cap.
		WithEnv("GOMEMLIMIT", fmt.Sprintf("%dMiB", memoryMB(m.spec.Manifest)*3/4))
	cctx := context.WithValue(ctx, reactorKey{}, r)
	inst, err := m.instantiate(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", r.guestError(ctx, err))
	}
	r.inst = inst
	r.handle = inst.ExportedFunction(exportHandle)
	if m.interruptible {
		if r.interrupt, err = newInterrupter(inst); err != nil {
			_ = inst.Close(context.Background())
			return nil, err
		}
	}
	for _, name := range []string{exportReact, exportInit} {
		f := inst.ExportedFunction(name)
		if f == nil {
			continue
		}
		if _, err := m.call(cctx, inst, f); err != nil {
			r.closeStreams()
			r.stdout.flush()
			r.stderr.flush()
			_ = inst.Close(context.Background())
			return nil, fmt.Errorf("%s: %w", name, r.guestError(ctx, err))
		}
	}
	r.closeStreams()
	if err := r.initEvents(cctx); err != nil {
		_ = inst.Close(context.Background())
		return nil, err
	}
	r.stdout.flush()
	r.stderr.flush()
	r.ctx = nil
	noteStarted(&m.startedSize, uint64(inst.Memory().Size()))
	return r, nil
}

// sleep is WASI's clock sleep (poll_oneoff): it ends early when the call's
// deadline passes, so a sleeping guest is interrupted like a busy one.
func (r *reactor) sleep(ns int64) {
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Fetch calls the guest's wisp_handle for one request; the guest reads the
// request and writes the response through host functions.
func (r *reactor) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	r.ctx, r.req, r.w, r.bodyRead, r.headSent = ctx, req, w, 0, false
	r.stdout.start(ctx, req.ID)
	r.stderr.start(ctx, req.ID)
	defer func() {
		r.closeStreams()
		r.stdout.flush()
		r.stderr.flush()
		r.ctx, r.req, r.w, r.result, r.errMsg = nil, nil, nil, nil, ""
	}()
	cctx := context.WithValue(ctx, reactorKey{}, r)
	var err error
	if r.interrupt != nil {
		err = r.interrupt.call(cctx, r.handle, r.stack[:])
	} else {
		var res []uint64
		if res, err = r.handle.Call(cctx); err == nil {
			r.stack[0] = res[0]
		}
	}
	if err != nil {
		return r.guestError(ctx, err)
	}
	if rc := int32(r.stack[0]); rc != 0 {
		return runtime.Errorf(runtime.Exception, "the module's %s returned %d", exportHandle, rc)
	}
	if !r.headSent {
		w.WriteHeader(http.StatusOK)
	}
	return nil
}

// guestError turns an error from a call into the guest into a
// *runtime.Error. Every failure inside the guest discards the instance:
// its memory may be in any state.
func (r *reactor) guestError(ctx context.Context, err error) error {
	return guestError(ctx, &r.mod.spec, err)
}

func guestError(ctx context.Context, spec *runtime.Spec, err error) error {
	var ge *runtime.Error
	if errors.As(err, &ge) {
		return ge
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return runtime.Errorf(runtime.Timeout, "the module exceeded its time limit of %dms", spec.Manifest.Limits.TimeoutMS)
		case sys.ExitCodeContextCanceled:
			return runtime.Errorf(runtime.Crash, "the invocation was canceled")
		default:
			return runtime.Errorf(runtime.Crash, "the module exited with code %d", exit.ExitCode())
		}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return runtime.Errorf(runtime.Timeout, "the module exceeded its time limit of %dms", spec.Manifest.Limits.TimeoutMS)
	case ctx.Err() != nil:
		return runtime.Errorf(runtime.Crash, "the invocation was canceled")
	}
	var trap *trapError
	if errors.As(err, &trap) {
		return &runtime.Error{Kind: runtime.Crash, Message: "the module was stopped: " + trap.msg, Stack: err.Error()}
	}
	msg, stack, _ := strings.Cut(err.Error(), "\n")
	return &runtime.Error{Kind: runtime.Crash, Message: "the module trapped: " + msg, Stack: stack}
}

// MemoryBytes is the size of the instance's linear memory; pools recycle
// an instance that grew too close to its cap (dispatch.MemoryReporter).
func (r *reactor) MemoryBytes() int64 {
	if r.inst == nil || r.inst.Memory() == nil {
		return 0
	}
	return int64(r.inst.Memory().Size())
}

// Close frees the instance's memory.
func (r *reactor) Close() {
	if r.inst != nil {
		_ = r.inst.Close(context.Background())
	}
}
