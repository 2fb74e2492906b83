package cli

import (
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/client"
	"github.com/wisp-run/wisp/internal/job"
)

// asyncFlags are invoke's flags for asynchronous invocation.
type asyncFlags struct {
	async    bool
	callback string
	wait     bool
}

func (f *asyncFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.async, "async", false, "queue the invocation (Prefer: respond-async) and print its id")
	cmd.Flags().StringVar(&f.callback, "callback", "", "with --async: URL the outcome is posted to (must be on the node's --callback-host list)")
	cmd.Flags().BoolVar(&f.wait, "wait", false, "with --async: wait for the outcome and print it")
}

func (g *globals) invokeAsync(cmd *cobra.Command, c *client.Client, service, method, path string, h http.Header, body []byte, f asyncFlags) error {
	acc, err := c.InvokeAsync(cmd.Context(), service, method, path, h, body, f.callback)
	if err != nil {
		return err
	}
	if f.wait {
		return g.showInvocation(cmd, c, acc.ID, true)
	}
	if g.json {
		return g.printJSON(acc)
	}
	g.printf("queued invocation %s of %s (see: wisp invoke status %s)\n", acc.ID, acc.Service, acc.ID)
	return nil
}

func invokeStatusCmd(g *globals) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show the outcome of an asynchronous invocation",
		Long: "Show the status, attempts, error and response of an asynchronous invocation.\n" +
			"The exit code is 1 when it failed or the service answered with a status of 400 or more.",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return g.showInvocation(cmd, c, a[0], wait)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the invocation has completed or failed")
	return cmd
}

// showInvocation prints an invocation, after waiting for its outcome
// when wait is set.
func (g *globals) showInvocation(cmd *cobra.Command, c *client.Client, id string, wait bool) error {
	inv, err := c.Invocation(cmd.Context(), id)
	for err == nil && wait && !inv.Terminal() {
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(200 * time.Millisecond):
		}
		inv, err = c.Invocation(cmd.Context(), id)
	}
	if err != nil {
		return err
	}
	if g.json {
		err = g.printJSON(inv)
	} else {
		g.printInvocation(inv)
	}
	if err != nil {
		return err
	}
	if inv.Status == job.StatusFailed || (inv.Status == job.StatusCompleted && inv.Response != nil && inv.Response.Status >= 400) {
		return silentError{}
	}
	return nil
}

func (g *globals) printInvocation(inv *job.Invocation) {
	tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
	fprintf(tw, "id\t%s\n", inv.ID)
	fprintf(tw, "service\t%s\n", inv.Service)
	fprintf(tw, "request\t%s %s\n", inv.Method, inv.Path)
	fprintf(tw, "status\t%s\n", inv.Status)
	fprintf(tw, "attempts\t%d\n", inv.Attempts)
	fprintf(tw, "created\t%s\n", inv.Created.Local().Format(time.DateTime))
	fprintf(tw, "updated\t%s\n", inv.Updated.Local().Format(time.DateTime))
	if inv.Error != "" {
		fprintf(tw, "error\t%s\n", oneLine(inv.Error, 300))
	}
	if cb := inv.Callback; cb != nil {
		line := fmt.Sprintf("%s %s", cb.Status, cb.URL)
		if cb.Error != "" {
			line += " (" + oneLine(cb.Error, 200) + ")"
		}
		fprintf(tw, "callback\t%s\n", line)
	}
	if r := inv.Response; r != nil {
		fprintf(tw, "response\t%d %s\n", r.Status, http.StatusText(r.Status))
	}
	_ = tw.Flush()
	if r := inv.Response; r != nil {
		if r.BodyBase64 != nil {
			g.printf("(%d bytes of binary body)\n", len(r.BodyBase64))
		} else if r.Body != "" {
			g.printf("%s", r.Body)
			if r.Body[len(r.Body)-1] != '\n' {
				g.printf("\n")
			}
		}
		if r.Truncated {
			g.printf("(body truncated at %d bytes)\n", job.MaxResponseBytes)
		}
	}
}
