package js

import (
	"context"
	"embed"
	"fmt"
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

// envGlobal is where `import { env } from "cloudflare:workers"` finds the
// env (bundle.EnvGlobal).
const envGlobal = "__wisp_env"

// maxCallStack bounds JS recursion so runaway recursion throws a
// RangeError instead of exhausting the Go stack of the node.
const maxCallStack = 2048

// program is one file of prelude/, compiled once per process. Each file
// is a function expression `(function (host) { … return exports })`,
// run in a runtime the first time one of its exports is needed.
type program struct {
	name string
	once sync.Once
	prog *goja.Program
	err  error
}

var programs = map[string]*program{}

func programNamed(name string) *program {
	p, ok := programs[name]
	if !ok {
		p = &program{name: name}
		programs[name] = p
	}
	return p
}

func (p *program) compiled() (*goja.Program, error) {
	p.once.Do(func() {
		src, err := preludeFS.ReadFile("prelude/" + p.name + ".js")
		if err != nil {
			p.err = err
			return
		}
		s := strings.TrimSpace(string(src))
		p.prog, p.err = goja.Compile("wisp:"+p.name, s, true)
	})
	return p.prog, p.err
}

// Engine runs JavaScript workers on goja.
type Engine struct{}

var _ runtime.Engine = (*Engine)(nil)

// Load compiles a worker bundle (esbuild IIFE output assigning
// GlobalName). Compilation is shared by every instance of the version.
func (Engine) Load(_ context.Context, spec runtime.Spec) (runtime.Module, error) {
	for _, p := range programs {
		if _, err := p.compiled(); err != nil {
			return nil, fmt.Errorf("compile prelude %s: %w", p.name, err)
		}
	}
	if spec.Env == nil {
		spec.Env = &binding.Env{Vars: spec.Manifest.Vars}
	}
	prog, err := goja.Compile(spec.Service+".js", string(spec.Code), false)
	if err != nil {
		return nil, fmt.Errorf("compile worker %s: %w", spec.Service, err)
	}
	return &module{spec: spec, prog: prog, limits: limitsOf(spec)}, nil
}

type module struct {
	spec   runtime.Spec
	prog   *goja.Program
	limits limits
}

func (m *module) NewInstance(ctx context.Context) (runtime.Instance, error) {
	return newInstance(ctx, m)
}

func (m *module) Close() {}
