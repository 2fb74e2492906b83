package cli

import (
	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
)

func rollbackCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback SERVICE [VERSION]",
		Short: "Point a service back at an older version (default: the one before the active one)",
		Args:  args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			version := ""
			if len(a) == 2 {
				version = a[1]
			}
			res, err := c.Rollback(cmd.Context(), a[0], version)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			if res.Status == api.StatusUnchanged {
				g.printf("%s: version %s is already active\n", res.Service, res.Version)
				return nil
			}
			g.printf("%s: rolled back to version %s (was %s)\n", res.Service, res.Version, res.Previous)
			return nil
		},
	}
}

func rmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm SERVICE",
		Aliases: []string{"remove"},
		Short:   "Remove a service, its versions and its routes",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.Remove(cmd.Context(), a[0]); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"service": a[0], "status": "removed"})
			}
			g.printf("%s: removed\n", a[0])
			return nil
		},
	}
}
