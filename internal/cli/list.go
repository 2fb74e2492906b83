package cli

import (
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func lsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List services",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Services(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			if len(list) == 0 {
				g.printf("no services deployed\n")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "NAME\tVERSION\tKIND\tVERSIONS\tUPDATED\tINSTANCES\tCOLD STARTS\tNEXT RUN\tROUTES\n")
			for _, s := range list {
				routes := strings.Join(s.Routes, " ")
				if routes == "" {
					routes = "(private)"
				}
				inst, cold := "-", "-" // not loaded on the node that answered
				if s.Pool != nil {
					inst, cold = strconv.Itoa(s.Pool.Instances), strconv.FormatUint(s.Pool.ColdStarts, 10)
				}
				fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Version, s.Kind, s.Versions, ago(s.Updated), inst, cold, nextRun(s.NextRun, time.Now()), routes)
			}
			return tw.Flush()
		},
	}
}

func versionsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "versions SERVICE",
		Short: "List a service's versions, oldest first; * marks the active one",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			vs, err := c.Versions(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(vs)
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "\tVERSION\tCREATED\tKIND\tSIZE\tROUTES\n")
			for _, v := range vs {
				mark := ""
				if v.Active {
					mark = "*"
				}
				fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", mark, v.ID, v.Created.Local().Format(time.DateTime), v.Kind, v.CodeSize, strings.Join(v.Routes, " "))
			}
			return tw.Flush()
		},
	}
}

// ago renders a time as a rough age ("3m ago").
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s") + " ago"
	case d < 48*time.Hour:
		return d.Truncate(time.Hour).String()[:len(d.Truncate(time.Hour).String())-4] + " ago"
	}
	return t.Local().Format(time.DateOnly)
}
