package cli

import (
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
)

func usageCmd(g *globals) *cobra.Command {
	var since, service string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show usage per service and UTC day: invocations, wall time, CPU time, GB-seconds, egress",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := api.ParseUsageSince(since, time.Now()); err != nil {
				return usageError{err}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			rep, err := c.Usage(cmd.Context(), since, service)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(rep)
			}
			if len(rep.Rows) == 0 {
				g.printf("no usage since %s\n", rep.Since.Format("2006-01-02"))
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fprintf(tw, "DAY\tSERVICE\tINVOCATIONS\tWALL s\tCPU s\tGB-s\tEGRESS\t\n")
			row := func(r api.UsageRow) {
				cpu := strconv.FormatFloat(r.CPUSeconds, 'f', 3, 64)
				if !rep.CPUMeasured {
					cpu = "n/a"
				}
				fprintf(tw, "%s\t%s\t%d\t%.3f\t%s\t%.3f\t%s\t\n", r.Day, r.Service, r.Invocations, r.WallSeconds, cpu, r.GBSeconds, bytesIEC(r.EgressBytes))
			}
			for _, r := range rep.Rows {
				row(r)
			}
			if len(rep.Rows) > 1 {
				t := rep.Total
				t.Day, t.Service = "total", ""
				row(t)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "first day: a number of days back (7d), a duration (36h), a date (2026-11-01) or an RFC 3339 time (default today, UTC)")
	cmd.Flags().StringVar(&service, "service", "", "only this service")
	return cmd
}

// bytesIEC prints a byte count with a binary unit.
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}
