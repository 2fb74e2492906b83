package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/project"
)

func deployCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Build and deploy the service in DIR, or every service in its subfolders",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			dir := "."
			if len(a) == 1 {
				dir = a[0]
			}
			svcs, err := project.Discover(dir)
			if err != nil {
				return err
			}
			svcs = project.InBindingOrder(svcs)
			c, err := g.client()
			if err != nil {
				return err
			}
			var results []*api.DeployResult
			failed := 0
			for _, s := range svcs {
				res := g.deployOne(cmd.Context(), c, s)
				if res == nil {
					failed++
					continue
				}
				results = append(results, res)
			}
			if g.json {
				if results == nil {
					results = []*api.DeployResult{}
				}
				if err := g.printJSON(results); err != nil {
					return err
				}
			}
			if failed > 0 {
				return silentError{}
			}
			return nil
		},
	}
}

// deployOne builds and uploads one service, printing its progress (to
// stderr when --json keeps stdout for the result). It returns nil when the
// service failed, having printed why.
func (g *globals) deployOne(ctx context.Context, c *client.Client, s *project.Service) *api.DeployResult {
	out := g.env.Stdout
	if g.json {
		out = g.env.Stderr
	}
	name := s.Manifest.Name
	say := func(format string, a ...any) {
		fprintf(out, "%-12s "+format+"\n", append([]any{name}, a...)...)
	}
	say("building %s", s.Dir)
	code, err := s.Build(ctx, out)
	if err != nil {
		say("failed: %v", err)
		return nil
	}
	res, err := c.Deploy(ctx, name, s.ManifestPath, s.Source, code)
	if err != nil {
		say("failed: %v", err)
		return nil
	}
	routes := "private (no routes)"
	if len(res.Routes) > 0 {
		routes = strings.Join(res.Routes, " ")
	}
	switch res.Status {
	case api.StatusUnchanged:
		say("unchanged, version %s", res.Version)
	default:
		say("deployed version %s  routes: %s", res.Version, routes)
	}
	for _, w := range res.Warnings {
		say("warning: %s", w)
	}
	return res
}

// clientFor is a client of a node running in this process.
func clientFor(n *node.Node) *client.Client { return client.New(n.AdminURL(), n.Token()) }
