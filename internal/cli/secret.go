package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// maxSecretInput bounds what `secret put` reads from stdin; the node
// refuses values over 5 KiB with a clear message.
const maxSecretInput = 64 << 10

// secretCmd is `wisp secret put|ls|rm SERVICE [NAME]`. Values are read
// from stdin and never printed.
func secretCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Set, list and remove a service's secrets (values are never shown)",
	}
	cmd.AddCommand(secretPutCmd(g), secretListCmd(g), secretRmCmd(g))
	return cmd
}

func secretPutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "put SERVICE NAME",
		Short: "Set a secret; its value is read from stdin (one trailing newline is dropped)",
		Long: "Set a secret, read from stdin, for example\n\n" +
			"    printf %s \"$API_KEY\" | wisp secret put payments API_KEY\n\n" +
			"The service sees it as env.NAME. Every node reloads the service with it.",
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			b, err := io.ReadAll(io.LimitReader(g.env.Stdin, maxSecretInput))
			if err != nil {
				return errors.New("read the secret from stdin failed")
			}
			b = bytes.TrimSuffix(b, []byte("\n"))
			b = bytes.TrimSuffix(b, []byte("\r"))
			if len(b) == 0 {
				return usageError{fmt.Errorf("no secret value on stdin: pipe it in, e.g. printf %%s \"$VALUE\" | wisp secret put %s %s", a[0], a[1])}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.PutSecret(cmd.Context(), a[0], a[1], string(b))
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			g.printf("%s: secret %s set\n", res.Service, res.Name)
			for _, w := range res.Warnings {
				fprintf(g.env.Stderr, "warning: %s\n", w)
			}
			return nil
		},
	}
}

func secretListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "ls SERVICE",
		Aliases: []string{"list"},
		Short:   "List a service's secrets by name",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Secrets(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			if len(list) == 0 {
				g.printf("%s has no secrets\n", a[0])
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "NAME\tUPDATED\n")
			for _, s := range list {
				fprintf(tw, "%s\t%s\n", s.Name, s.Updated.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
}

func secretRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm SERVICE NAME",
		Aliases: []string{"delete"},
		Short:   "Remove a secret",
		Args:    args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.DeleteSecret(cmd.Context(), a[0], a[1]); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"service": a[0], "name": a[1], "status": "deleted"})
			}
			g.printf("%s: secret %s removed\n", a[0], a[1])
			return nil
		},
	}
}
