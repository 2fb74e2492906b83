package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/client"
)

// kvCmd is `wisp kv get|put|ls|rm SERVICE BINDING …`: the KV namespace a
// service's binding names, read and written from outside.
func kvCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Read and write a service's KV namespaces (by the service's binding name)",
	}
	cmd.AddCommand(kvGetCmd(g), kvPutCmd(g), kvListCmd(g), kvRmCmd(g))
	return cmd
}

func kvGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get SERVICE BINDING KEY",
		Short: "Print a key's value (exit 1 when the key is absent)",
		Args:  args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			v, err := c.KVGet(cmd.Context(), a[0], a[1], a[2])
			if err != nil {
				return err
			}
			if v == nil {
				return fmt.Errorf("key %q not found in %s's KV binding %s", a[2], a[0], a[1])
			}
			if g.json {
				out := map[string]any{"key": a[2]}
				if utf8.Valid(v.Value) {
					out["value"] = string(v.Value)
				} else {
					out["value_base64"] = base64.StdEncoding.EncodeToString(v.Value)
				}
				if v.Expiration != 0 {
					out["expiration"] = v.Expiration
				}
				if v.Metadata != nil {
					out["metadata"] = v.Metadata
				}
				return g.printJSON(out)
			}
			_, err = g.env.Stdout.Write(v.Value)
			return err
		},
	}
}

func kvPutCmd(g *globals) *cobra.Command {
	var ttl, expiration int64
	var metadata string
	cmd := &cobra.Command{
		Use:   "put SERVICE BINDING KEY [VALUE]",
		Short: "Store a value (from the argument, or from stdin when it is absent or \"-\")",
		Args:  args(cobra.RangeArgs(3, 4)),
		RunE: func(cmd *cobra.Command, a []string) error {
			var value []byte
			if len(a) == 4 && a[3] != "-" {
				value = []byte(a[3])
			} else {
				var err error
				if value, err = io.ReadAll(io.LimitReader(g.env.Stdin, api.MaxKVValue+1)); err != nil {
					return fmt.Errorf("read the value from stdin: %w", err)
				}
			}
			o := client.KVPutOptions{Expiration: expiration, ExpirationTTL: ttl}
			if metadata != "" {
				if !json.Valid([]byte(metadata)) {
					return usageError{fmt.Errorf("--metadata %q is not JSON", metadata)}
				}
				o.Metadata = json.RawMessage(metadata)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.KVPut(cmd.Context(), a[0], a[1], a[2], value, o); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]any{"service": a[0], "binding": a[1], "key": a[2], "status": "stored", "bytes": len(value)})
			}
			g.printf("%s %s: stored %q (%d bytes)\n", a[0], a[1], a[2], len(value))
			return nil
		},
	}
	cmd.Flags().Int64Var(&ttl, "ttl", 0, "expire the key after this many seconds (at least 60)")
	cmd.Flags().Int64Var(&expiration, "expiration", 0, "expire the key at this time (unix seconds, at least 60 s from now)")
	cmd.Flags().StringVar(&metadata, "metadata", "", "JSON metadata to store with the key (at most 1024 bytes)")
	return cmd
}

func kvListCmd(g *globals) *cobra.Command {
	var prefix, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:     "ls SERVICE BINDING",
		Aliases: []string{"list"},
		Short:   "List keys in UTF-8 byte order (all of them, or --limit N from --cursor)",
		Args:    args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if limit < 0 || limit > 1000 {
				return usageError{fmt.Errorf("--limit must be from 1 to 1000")}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var keys []api.KVKeyInfo
			next := cursor
			for {
				page, err := c.KVList(cmd.Context(), a[0], a[1], prefix, next, limit)
				if err != nil {
					return err
				}
				keys = append(keys, page.Keys...)
				next = page.Cursor
				if page.ListComplete || limit != 0 {
					break
				}
			}
			if g.json {
				if keys == nil {
					keys = []api.KVKeyInfo{}
				}
				return g.printJSON(api.KVListResult{Keys: keys, ListComplete: next == "", Cursor: next})
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "KEY\tEXPIRES\tMETADATA\n")
			for _, k := range keys {
				exp := ""
				if k.Expiration != 0 {
					exp = time.Unix(k.Expiration, 0).Local().Format(time.DateTime)
				}
				var meta bytes.Buffer
				_ = json.Compact(&meta, k.Metadata)
				fprintf(tw, "%s\t%s\t%s\n", k.Name, exp, meta.String())
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if next != "" {
				fprintf(g.env.Stderr, "more keys follow: --cursor %s\n", next)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only keys starting with this")
	cmd.Flags().IntVar(&limit, "limit", 0, "list one page of at most this many keys (1-1000) instead of all")
	cmd.Flags().StringVar(&cursor, "cursor", "", "continue a listing where a --limit page ended")
	return cmd
}

func kvRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm SERVICE BINDING KEY",
		Aliases: []string{"delete"},
		Short:   "Delete a key (deleting an absent key is not an error)",
		Args:    args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.KVDelete(cmd.Context(), a[0], a[1], a[2]); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"service": a[0], "binding": a[1], "key": a[2], "status": "deleted"})
			}
			g.printf("%s %s: deleted %q\n", a[0], a[1], a[2])
			return nil
		},
	}
}
