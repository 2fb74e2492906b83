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

// Error lists esbuild's errors, each at file:line:column.
type Error struct {
	Messages []string
}

func (e *Error) Error() string { return strings.Join(e.Messages, "\n") }

// JS bundles the worker whose entry point is entry (relative to dir).
func JS(dir, entry string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{entry},
		AbsWorkingDir: abs,
		Bundle:        true,
		Write:         false,
		Outfile:       "worker.js",
		Format:        api.FormatIIFE,
		GlobalName:    GlobalName,
		Target:        api.ES2017, // goja runs ES2017 plus what it has of later editions
		Platform:      api.PlatformBrowser,
		Conditions:    []string{"workerd", "worker", "browser"},
		Charset:       api.CharsetUTF8,
		LogLevel:      api.LogLevelSilent,
		Sourcemap:     api.SourceMapNone,
	})
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
