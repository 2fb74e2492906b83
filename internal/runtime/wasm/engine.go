package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/runtime"
)

// Host module names a module may import.
const (
	wasiModule = wasi_snapshot_preview1.ModuleName
	wispModule = "wisp"
)

// Exports of the wisp ABI (docs/abi.md).
const (
	exportABIv1  = "wisp_abi_v1"
	exportInit   = "wisp_init"
	exportHandle = "wisp_handle"
	exportReact  = "_initialize"
	exportStart  = "_start"
)

// pageSize is a WebAssembly memory page.
const pageSize = 64 << 10

// Engine runs WebAssembly modules on wazero. Compiled code is cached in
// CacheDir, so a node that restarts loads its modules without compiling
// them again. One Engine serves a node; it is safe for concurrent use.
type Engine struct {
	cacheDir string

	once     sync.Once
	cache    wazero.CompilationCache
	cacheErr error
}

var _ runtime.Engine = (*Engine)(nil)

// NewEngine makes an engine caching compiled code in dir (created on first
// use); with dir "" the cache lives in memory only.
func NewEngine(dir string) *Engine { return &Engine{cacheDir: dir} }

func (e *Engine) compilationCache() (wazero.CompilationCache, error) {
	e.once.Do(func() {
		if e.cacheDir == "" {
			e.cache = wazero.NewCompilationCache()
			return
		}
		if err := os.MkdirAll(e.cacheDir, 0o700); err != nil {
			e.cacheErr = fmt.Errorf("create wasm cache folder: %w", err)
			return
		}
		e.cache, e.cacheErr = wazero.NewCompilationCacheWithDir(e.cacheDir)
		if e.cacheErr != nil {
			e.cacheErr = fmt.Errorf("open wasm cache folder: %w", e.cacheErr)
		}
	})
	return e.cache, e.cacheErr
}

// Close releases the in-memory part of the compilation cache; modules
// still loaded keep working.
func (e *Engine) Close() error {
	if e.cache != nil {
		return e.cache.Close(context.Background())
	}
	return nil
}

// mode says how a module serves requests.
type mode int

const (
	modeCGI mode = iota // WAGI: _start per request, CGI on stdio
	modeABI             // reactor importing host module "wisp"
)

func (m mode) String() string {
	if m == modeABI {
		return "wisp ABI v1"
	}
	return "CGI"
}

// Load compiles spec.Code (or loads it from the cache) and checks that the
// module is one wisp can run, naming what is wrong when it is not.
func (e *Engine) Load(ctx context.Context, spec runtime.Spec) (runtime.Module, error) {
	cache, err := e.compilationCache()
	if err != nil {
		return nil, err
	}
	if spec.Env == nil {
		spec.Env = &binding.Env{Vars: spec.Manifest.Vars}
	}
	pages := uint32(min(memoryMB(spec.Manifest)*(1<<20)/pageSize, 65536))
	code := mergeDataSegments(spec.Code)
	rt, m, err := loadRuntime(ctx, cache, spec, code, pages)
	if err != nil {
		return nil, err
	}
	// Pools close their module once drained; should one be dropped without
	// Close, the compiled code is released when it is no longer reachable.
	goruntime.AddCleanup(m, func(rt wazero.Runtime) { _ = rt.Close(context.Background()) }, rt)
	return m, nil
}

// loadRuntime compiles code with interrupt checks at loop heads (see
// interrupt.go) or, when the rewrite does not apply, as it is with
// wazero's own (slower) checks.
func loadRuntime(ctx context.Context, cache wazero.CompilationCache, spec runtime.Spec, code []byte, pages uint32) (wazero.Runtime, *module, error) {
	newRuntime := func(wazeroChecks bool) wazero.Runtime {
		return wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().
			WithCompilationCache(cache).
			WithCloseOnContextDone(wazeroChecks).
			WithDebugInfoEnabled(false).
			WithMemoryLimitPages(pages))
	}
	if instrumented, err := instrumentLoops(code); err == nil {
		rt := newRuntime(false)
		m, err := load(ctx, rt, spec, instrumented, pages)
		if err == nil {
			m.interruptible = true
			return rt, m, nil
		}
		_ = rt.Close(context.Background())
	}
	rt := newRuntime(true)
	m, err := load(ctx, rt, spec, code, pages)
	if err != nil {
		_ = rt.Close(context.Background())
		return nil, nil, err
	}
	return rt, m, nil
}

// memoryMB is the manifest's memory cap.
func memoryMB(m *manifest.Manifest) int {
	if m.Limits.MemoryMB <= 0 {
		return manifest.DefaultMemoryMB
	}
	return m.Limits.MemoryMB
}

func load(ctx context.Context, rt wazero.Runtime, spec runtime.Spec, code []byte, pages uint32) (*module, error) {
	compiled, err := rt.CompileModule(ctx, code)
	if err != nil {
		if strings.Contains(err.Error(), "over limit of") {
			return nil, fmt.Errorf("compile %s.wasm: %w; the limit is [limits] memory_mb", spec.Service, err)
		}
		return nil, fmt.Errorf("compile %s.wasm: %w", spec.Service, err)
	}
	md, err := inspect(compiled, pages)
	if err != nil {
		return nil, fmt.Errorf("%s.wasm: %w", spec.Service, err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, fmt.Errorf("instantiate WASI: %w", err)
	}
	if md == modeABI {
		if _, err := hostModule(rt).Instantiate(ctx); err != nil {
			return nil, fmt.Errorf("instantiate the wisp host module: %w", err)
		}
	}
	m := &module{spec: spec, rt: rt, compiled: compiled, mode: md}
	if md == modeCGI {
		if m.routes, err = newRouteInfo(spec.Manifest.Routes); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// inspect decides the module's mode from its imports and exports.
func inspect(c wazero.CompiledModule, pages uint32) (mode, error) {
	var unknown []string
	importsWisp := false
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case wasiModule:
		case wispModule:
			importsWisp = true
			if _, ok := hostFuncs[name]; !ok {
				return 0, fmt.Errorf("imports wisp.%s, which ABI v1 does not have (see docs/abi.md)", name)
			}
		default:
			unknown = append(unknown, mod+"."+name)
		}
	}
	for _, m := range c.ImportedMemories() {
		mod, name, _ := m.Import()
		unknown = append(unknown, mod+"."+name+" (memory)")
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return 0, fmt.Errorf("imports %s; a module may import only %s and %s", strings.Join(unknown, ", "), wasiModule, wispModule)
	}
	mems := c.ExportedMemories()
	if _, ok := mems["memory"]; !ok {
		return 0, errors.New(`exports no memory named "memory"`)
	}
	for _, mem := range mems {
		if mem.Min() > pages {
			return 0, fmt.Errorf("needs %d MiB of memory to start, over limits.memory_mb (%d MiB)", mem.Min()*pageSize>>20, pages*pageSize>>20)
		}
	}
	fns := c.ExportedFunctions()
	if _, ok := fns[exportABIv1]; ok {
		h, ok := fns[exportHandle]
		if !ok || len(h.ParamTypes()) != 0 || !sameTypes(h.ResultTypes(), api.ValueTypeI32) {
			return 0, fmt.Errorf("exports %s but not %s() -> i32", exportABIv1, exportHandle)
		}
		for _, name := range []string{exportReact, exportInit} {
			if f, ok := fns[name]; ok && (len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0) {
				return 0, fmt.Errorf("exports %s with a signature other than () -> ()", name)
			}
		}
		if err := checkEventExports(fns); err != nil {
			return 0, err
		}
		return modeABI, nil
	}
	if importsWisp {
		return 0, fmt.Errorf("imports host module wisp but does not export %s, the ABI version marker (see docs/abi.md)", exportABIv1)
	}
	if f, ok := fns[exportStart]; !ok || len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0 {
		return 0, fmt.Errorf("exports neither %s (a WASI command, run as CGI) nor %s (the wisp ABI)", exportStart, exportABIv1)
	}
	return modeCGI, nil
}

func sameTypes(got []api.ValueType, want ...api.ValueType) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// module is a loaded version: its own wazero runtime (which carries the
// memory limit) with WASI and, for the ABI, the wisp host module.
type module struct {
	spec     runtime.Spec
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	mode     mode
	routes   *routeInfo // CGI only
	// interruptible: the code has interrupt checks (interrupt.go); else
	// wazero closes the module when a call's context ends.
	interruptible bool
	startedSize   atomic.Uint64 // memory size of a started instance (memalloc.go)
}

// call calls f on inst, stopping the guest when ctx ends.
func (m *module) call(ctx context.Context, inst api.Module, f api.Function) ([]uint64, error) {
	if !m.interruptible {
		return f.Call(ctx)
	}
	it, err := newInterrupter(inst)
	if err != nil {
		return nil, err
	}
	stack := make([]uint64, max(len(f.Definition().ParamTypes()), len(f.Definition().ResultTypes())))
	if err := it.call(ctx, f, stack); err != nil {
		return nil, err
	}
	return stack[:len(f.Definition().ResultTypes())], nil
}

// interrupter stops the calls into one instance of an instrumented module
// when their context ends (interrupt.go). A reactor keeps one, so that a
// call allocates no more than context.AfterFunc does.
type interrupter struct {
	flag  api.MutableGlobal
	fired chan struct{} // one value once fire has set the flag
	fire  func()
}

func newInterrupter(inst api.Module) (*interrupter, error) {
	g, ok := inst.ExportedGlobal(interruptGlobal).(api.MutableGlobal)
	if !ok {
		return nil, errors.New("the instrumented module lost its interrupt global")
	}
	it := &interrupter{flag: g, fired: make(chan struct{}, 1)}
	it.fire = func() {
		g.Set(1)
		it.fired <- struct{}{}
	}
	return it, nil
}

// call calls f with stack (its parameters, then its results), setting the
// interrupt flag if ctx ends first.
func (it *interrupter) call(ctx context.Context, f api.Function, stack []uint64) error {
	if ctx.Done() == nil {
		return f.CallWithStack(ctx, stack)
	}
	stop := context.AfterFunc(ctx, it.fire)
	err := f.CallWithStack(ctx, stack)
	if !stop() {
		<-it.fired
		if err == nil {
			it.flag.Set(0) // the guest finished just before the flag was set
		}
	}
	return err
}

// instantiate makes an instance of the module without running anything.
func (m *module) instantiate(ctx context.Context, cfg wazero.ModuleConfig) (api.Module, error) {
	ctx = experimental.WithMemoryAllocator(ctx, m.newMemoryAllocator())
	return m.rt.InstantiateModule(ctx, m.compiled, cfg.WithStartFunctions())
}

func (m *module) NewInstance(ctx context.Context) (runtime.Instance, error) {
	if m.mode == modeCGI {
		return &cgiInstance{mod: m}, nil
	}
	return newReactor(ctx, m)
}

// Close releases the compiled code. Instances must be closed first.
func (m *module) Close() { _ = m.rt.Close(context.Background()) }
