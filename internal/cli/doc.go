// Package cli owns the wisp command line: one file per subcommand, built
// on cobra. Nothing here touches the process directly: stdio, environment
// and signals come in through Env, so tests run commands in-process.
package cli
