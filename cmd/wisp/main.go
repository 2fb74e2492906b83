// Command wisp is the wisp platform: `wisp serve` runs a node, the other
// subcommands are its client. See internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wisp-run/wisp/internal/cli"
)

func main() {
	stopTrace := startRuntimeTrace()
	startHeapProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	st, _ := os.Stderr.Stat()
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		StderrIsTerminal: st != nil && st.Mode()&os.ModeCharDevice != 0,
	})
	stop()
	stopTrace()
	os.Exit(code)
}
