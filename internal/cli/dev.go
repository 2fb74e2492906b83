package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

// pollInterval is how often wisp dev looks for changed files.
const pollInterval = 300 * time.Millisecond

func devCmd(g *globals) *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "Run a node with the project in DIR deployed, redeployed on every change, logs on the terminal",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir := "."
			if len(a) == 1 {
				dir = a[0]
			}
			if _, err := project.Discover(dir); err != nil {
				return err
			}
			return g.dev(cmd.Context(), dir, &f)
		},
	}
	f.register(cmd, g)
	return cmd
}

func (g *globals) dev(ctx context.Context, dir string, f *nodeFlags) error {
	cfg, err := g.nodeConfig(f)
	if err != nil {
		return err
	}
	if !f.debug {
		// The terminal is for the services' logs; the platform speaks up
		// only when something is wrong.
		cfg.Logger = g.logger(slog.LevelWarn)
	}
	node.PaceGC(g.env.Getenv, cfg.Logger)
	n := node.New(cfg)
	if err := n.Start(ctx); err != nil {
		return err
	}
	defer n.Shutdown(context.Background())
	entries, cancel := n.LogHub().Subscribe(nil, 1024)
	defer cancel()
	go g.printLogs(entries)

	g.printf("wisp dev: gateway http://%s  admin %s\n", n.GatewayAddr(), n.AdminURL())
	c := clientFor(n)
	prints := map[string]string{} // service dir -> fingerprint of its files
	deployAll := func(first bool) {
		svcs, err := project.Discover(dir)
		if err != nil {
			g.printf("wisp dev: %v\n", err)
			return
		}
		svcs = project.InBindingOrder(svcs)
		for _, s := range svcs {
			fp := fingerprint(s.Dir)
			if prints[s.Dir] == fp {
				continue
			}
			prints[s.Dir] = fp
			if !first {
				g.printf("wisp dev: %s changed, redeploying\n", s.Manifest.Name)
			}
			_ = g.deployOne(ctx, c, s)
		}
	}
	deployAll(true)
	g.printf("wisp dev: watching %s for changes (Ctrl-C to stop)\n", dir)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.printf("wisp dev: stopping\n")
			return nil
		case <-t.C:
			deployAll(false)
		}
	}
}

func (g *globals) printLogs(entries <-chan logs.Entry) {
	for e := range entries {
		_ = printEntry(g.env.Stdout, e)
	}
}

// fingerprint summarizes the names, sizes and times of a service's files;
// it changes when any of them does. Dot folders and node_modules are
// skipped.
func fingerprint(dir string) string {
	h := sha256.New()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() && path != dir && (strings.HasPrefix(name, ".") || name == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}
