package bundle

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// GlobalName is the global the IIFE assigns the module's exports to; the
// JS runtime reads the worker from it.
const GlobalName = "__wisp_worker"

// EnvGlobal is the global through which `import { env } from
// "cloudflare:workers"` reaches the service's env in wisp.
const EnvGlobal = "__wisp_env"

// Error lists esbuild's errors, each at file:line:column.
type Error struct {
	Messages []string
}

func (e *Error) Error() string { return strings.Join(e.Messages, "\n") }

// JS bundles the worker whose entry point is entry (relative to dir) into
// the script wisp runs: one ES2017 IIFE assigning the module to
// GlobalName.
func JS(dir, entry string) ([]byte, error) {
	return build(dir, entry, api.FormatIIFE)
}

// ESM bundles the worker into one ES module, the form workerd loads. The
// differential tests and the benchmark use it to run the same sources in
// Cloudflare's runtime.
func ESM(dir, entry string) ([]byte, error) {
	return build(dir, entry, api.FormatESModule)
}

func build(dir, entry string, format api.Format) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	opts := api.BuildOptions{
		EntryPoints:   []string{entry},
		AbsWorkingDir: abs,
		Bundle:        true,
		Write:         false,
		Outfile:       "worker.js",
		Format:        format,
		Target:        api.ES2017, // goja runs ES2017 plus what it has of later editions
		Platform:      api.PlatformBrowser,
		Conditions:    []string{"workerd", "worker", "browser"},
		Charset:       api.CharsetUTF8,
		LogLevel:      api.LogLevelSilent,
		Sourcemap:     api.SourceMapNone,
	}
	if format == api.FormatIIFE {
		opts.GlobalName = GlobalName
		opts.Plugins = []api.Plugin{runtimeModules}
	} else {
		opts.Target = api.ESNext
		opts.External = []string{"cloudflare:*", "node:*"}
	}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		e := &Error{}
		for _, m := range res.Errors {
			e.Messages = append(e.Messages, formatMessage(m))
		}
		return nil, e
	}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".js") {
			return f.Contents, nil
		}
	}
	return nil, fmt.Errorf("bundle %s: esbuild produced no JavaScript", entry)
}

// cloudflareWorkers is wisp's "cloudflare:workers" module.
const cloudflareWorkers = `
export class WorkerEntrypoint {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
export class RpcTarget {}
export class DurableObject {
  constructor() { throw new Error('Durable Objects (DurableObject from cloudflare:workers) are not supported by wisp'); }
}
export class WorkflowEntrypoint {
  constructor() { throw new Error('Workflows (WorkflowEntrypoint from cloudflare:workers) are not supported by wisp'); }
}
export const env = globalThis.` + EnvGlobal + `;
`

// runtimeModules resolves the modules the Workers runtime provides: wisp
// has "cloudflare:workers"; any other "cloudflare:" or "node:" module is
// an error at the import that names it.
var runtimeModules = api.Plugin{
	Name: "wisp-runtime-modules",
	Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `^(cloudflare|node):`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			if args.Path == "cloudflare:workers" {
				return api.OnResolveResult{Path: args.Path, Namespace: "wisp"}, nil
			}
			return api.OnResolveResult{Errors: []api.Message{{
				Text: fmt.Sprintf("%s is not supported by wisp (wisp provides the Web APIs of Workers and cloudflare:workers, not Node.js or other cloudflare: modules)", args.Path),
			}}}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "wisp"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
			src := cloudflareWorkers
			return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
		})
	},
}

func formatMessage(m api.Message) string {
	if m.Location == nil {
		return "error: " + m.Text
	}
	l := m.Location
	s := fmt.Sprintf("%s:%d:%d: error: %s", l.File, l.Line, l.Column+1, m.Text)
	if l.LineText != "" {
		s += "\n    " + l.LineText
	}
	return s
}
