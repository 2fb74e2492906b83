package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/spf13/cobra"
)

// Env is the process environment a command runs in.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StderrIsTerminal selects text platform logs (else JSON).
	StderrIsTerminal bool
}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// usageError is a mistake in how the command was called.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

// silentError has already been reported; it only sets the exit code.
type silentError struct{}

func (silentError) Error() string { return "" }

// globals are the flags every command has.
type globals struct {
	env    Env
	server string
	token  string
	data   string
	json   bool
}

// Main runs the wisp command line with args (without the program name)
// and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	env.Stdout = &syncWriter{w: env.Stdout}
	env.Stderr = &syncWriter{w: env.Stderr}
	g := &globals{env: env}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var se silentError
	if errors.As(err, &se) {
		return ExitFailure
	}
	fmt.Fprintln(env.Stderr, "error:", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		fmt.Fprintln(env.Stderr, "Run 'wisp --help' for usage.")
		return ExitUsage
	}
	return ExitFailure
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "wisp",
		Short:         "wisp runs serverless microservices: JavaScript/TypeScript workers and WebAssembly modules",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", "", "admin API URL (default: $WISP_SERVER, then DATA/admin.url)")
	pf.StringVar(&g.token, "token", "", "admin API token (default: $WISP_TOKEN, then DATA/admin.token)")
	pf.BoolVar(&g.json, "json", false, "print JSON for scripts")
	root.AddCommand(
		serveCmd(g), devCmd(g), initCmd(g), deployCmd(g), lsCmd(g), versionsCmd(g),
		rollbackCmd(g), rmCmd(g), invokeCmd(g), logsCmd(g), traceCmd(g), usageCmd(g),
		kvCmd(g), secretCmd(g), queueCmd(g),
	)
	return root
}

// args wraps a cobra argument check so its failure is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (g *globals) printf(format string, a ...any) { fmt.Fprintf(g.env.Stdout, format, a...) }

func fprintf(w io.Writer, format string, a ...any) { fmt.Fprintf(w, format, a...) }

// syncWriter serializes writes: wisp dev prints logs and deploy progress
// from different goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// logger is the platform's own log: text on a terminal, JSON otherwise.
func (g *globals) logger(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if g.env.StderrIsTerminal {
		return slog.New(slog.NewTextHandler(g.env.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(g.env.Stderr, opts))
}
