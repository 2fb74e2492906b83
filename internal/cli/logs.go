package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/logs"
)

func logsCmd(g *globals) *cobra.Command {
	var q client.LogsQuery
	cmd := &cobra.Command{
		Use:   "logs SERVICE",
		Short: "Print a service's logs (console output, errors, one line per request); -f follows",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if q.Level != "" && !logs.ValidLevel(logs.Level(q.Level)) {
				return usageError{fmt.Errorf("--level %q is not one of debug, info, warn, error", q.Level)}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			print := func(e logs.Entry) error { return printEntry(g.env.Stdout, e) }
			if g.json {
				enc := json.NewEncoder(g.env.Stdout)
				print = func(e logs.Entry) error { return enc.Encode(e) }
			}
			return c.Logs(cmd.Context(), a[0], q, print)
		},
	}
	cmd.Flags().BoolVarP(&q.Follow, "follow", "f", false, "keep printing new entries (Ctrl-C to stop)")
	cmd.Flags().StringVar(&q.Since, "since", "", "how far back: a duration (10m, 2h) or an RFC 3339 time (default 15m)")
	cmd.Flags().StringVar(&q.Level, "level", "", "lowest level shown: debug, info, warn or error")
	return cmd
}

// printEntry writes one entry the way `wisp logs` and `wisp dev` show it.
func printEntry(w io.Writer, e logs.Entry) error {
	ts := e.Time.Local().Format("15:04:05.000")
	var err error
	if e.Kind == logs.KindRequest {
		_, err = fmt.Fprintf(w, "%s [%s] %s\n", ts, e.Service, e.Message)
	} else {
		_, err = fmt.Fprintf(w, "%s [%s] %s: %s\n", ts, e.Service, e.Level, e.Message)
	}
	return err
}
