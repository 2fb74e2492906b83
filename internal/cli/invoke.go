package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func invokeCmd(g *globals) *cobra.Command {
	var path, data, method string
	var headers []string
	var include bool
	var async asyncFlags
	cmd := &cobra.Command{
		Use:   "invoke SERVICE",
		Short: "Call a service directly (no route needed) and print its response",
		Long: "Call a service directly and print its response body. The exit code is 1 when the\n" +
			"service answers with a status of 400 or more.",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			body, err := g.readData(data)
			if err != nil {
				return err
			}
			h := http.Header{}
			for _, kv := range headers {
				k, v, ok := strings.Cut(kv, ":")
				if !ok {
					return usageError{fmt.Errorf("header %q is not NAME: VALUE", kv)}
				}
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if async.async {
				return g.invokeAsync(cmd, c, a[0], method, path, h, body, async)
			}
			res, err := c.Invoke(cmd.Context(), a[0], method, path, h, body)
			if err != nil {
				return err
			}
			if g.json {
				err = g.printJSON(map[string]any{"status": res.Status, "headers": res.Header, "body": string(res.Body), "request_id": res.RequestID})
			} else {
				if include {
					g.printf("HTTP %d %s\n", res.Status, http.StatusText(res.Status))
					_ = res.Header.Write(g.env.Stdout)
					g.printf("\n")
				}
				_, err = g.env.Stdout.Write(res.Body)
			}
			if err != nil {
				return err
			}
			if res.Status >= 400 {
				fprintf(g.env.Stderr, "%s answered %d (request id %s)\n", a[0], res.Status, res.RequestID)
				return silentError{}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "/", "path (and query) the service sees")
	cmd.Flags().StringVarP(&data, "data", "d", "", "request body: text, @FILE, or @- for stdin")
	cmd.Flags().StringVarP(&method, "method", "X", "", "HTTP method (default GET, or POST with --data)")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "request header NAME: VALUE (repeatable)")
	cmd.Flags().BoolVarP(&include, "include", "i", false, "print the status line and headers too")
	async.add(cmd)
	cmd.AddCommand(invokeStatusCmd(g))
	return cmd
}

// readData reads a --data value: text, @FILE, or @- for stdin.
func (g *globals) readData(data string) ([]byte, error) {
	switch {
	case data == "@-":
		return io.ReadAll(g.env.Stdin)
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("read --data file: %w", err)
		}
		return b, nil
	}
	return []byte(data), nil
}
