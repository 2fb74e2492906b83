package js

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/runtime"
)

//go:embed prelude/*.js
var preludeFS embed.FS

// GlobalName is the global variable the bundle's IIFE assigns the worker
// module to (esbuild's GlobalName option).
const GlobalName = "__wisp_worker"

// maxCallStack bounds JS recursion so runaway recursion throws a
// RangeError instead of exhausting the Go stack of the node.
const maxCallStack = 2048

var (
	preludeOnce sync.Once
	preludeProg *goja.Program
	preludeErr  error
)

// prelude is compiled once per process and run in every new runtime.
func prelude() (*goja.Program, error) {
	preludeOnce.Do(func() {
		entries, err := fs.ReadDir(preludeFS, "prelude")
		if err != nil {
			preludeErr = err
			return
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		var src strings.Builder
		src.WriteString("(function (host) {\n")
		for _, n := range names {
			b, err := preludeFS.ReadFile("prelude/" + n)
			if err != nil {
				preludeErr = err
				return
			}
			src.Write(b)
			src.WriteByte('\n')
		}
		src.WriteString("})")
		preludeProg, preludeErr = goja.Compile("wisp:prelude", src.String(), true)
	})
	return preludeProg, preludeErr
}

// Engine runs JavaScript workers on goja.
type Engine struct{}

var _ runtime.Engine = (*Engine)(nil)

// Load compiles a worker bundle (esbuild IIFE output assigning
// GlobalName). Compilation is shared by every instance of the version.
func (Engine) Load(_ context.Context, spec runtime.Spec) (runtime.Module, error) {
	if _, err := prelude(); err != nil {
		return nil, fmt.Errorf("compile prelude: %w", err)
	}
	if spec.Env == nil {
		spec.Env = &binding.Env{Vars: spec.Manifest.Vars}
	}
	prog, err := goja.Compile(spec.Service+".js", string(spec.Code), false)
	if err != nil {
		return nil, fmt.Errorf("compile worker %s: %w", spec.Service, err)
	}
	return &module{spec: spec, prog: prog}, nil
}

type module struct {
	spec runtime.Spec
	prog *goja.Program
}

func (m *module) NewInstance(ctx context.Context) (runtime.Instance, error) {
	return newInstance(ctx, m)
}

func (m *module) Close() {}
