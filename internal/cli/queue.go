package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
)

func queueCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "List, peek into, send to and redrive queues",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{fmt.Errorf("queue needs a subcommand: ls, peek, send or redrive")}
		},
	}
	cmd.AddCommand(queueLsCmd(g), queuePeekCmd(g), queueSendCmd(g), queueRedriveCmd(g))
	return cmd
}

func queueLsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List queues: messages waiting, in flight and delayed, consumer and producers",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Queues(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			if len(list) == 0 {
				g.printf("no queues\n")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "QUEUE\tMESSAGES\tIN FLIGHT\tDELAYED\tCONSUMER\tPRODUCERS\n")
			for _, q := range list {
				consumer := dash(q.Consumer)
				if q.DeadLetterQueue != "" {
					consumer += " (dead letters to " + q.DeadLetterQueue + ")"
				}
				fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", q.Name, q.Messages, q.InFlight, q.Delayed, consumer, dash(strings.Join(q.Producers, " ")))
			}
			return tw.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func queuePeekCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "peek QUEUE",
		Short: "Show a queue's waiting messages, oldest first, without consuming them",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			msgs, err := c.PeekQueue(cmd.Context(), a[0], limit)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(msgs)
			}
			if len(msgs) == 0 {
				g.printf("%s has no waiting messages\n", a[0])
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fprintf(tw, "ID\tSENT\tATTEMPTS\tTYPE\tBODY\n")
			for _, m := range msgs {
				body := m.Body
				if m.BodyBase64 != nil {
					body = "base64:" + base64.StdEncoding.EncodeToString(m.BodyBase64)
				}
				fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", m.ID, m.Timestamp.Local().Format(time.DateTime), m.Attempts, m.ContentType, oneLine(body, 80))
				if d := m.DeadLetter; d != nil {
					fprintf(tw, "\t  dead letter from %s after %d attempts: %s\n", d.Queue, d.Attempts, oneLine(d.Error, 200))
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 10, "messages to show at most")
	return cmd
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func queueSendCmd(g *globals) *cobra.Command {
	var data, contentType string
	var delay int
	cmd := &cobra.Command{
		Use:   "send QUEUE [BODY]",
		Short: "Send a message to a queue",
		Long: "Send one message to QUEUE. The body is BODY or --data (text, @FILE, or @- for stdin).\n" +
			"With --content-type json (the default) it must be JSON; text is sent as it is; bytes as raw bytes.",
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			var body []byte
			switch {
			case len(a) == 2 && data != "":
				return usageError{fmt.Errorf("give the body as an argument or with --data, not both")}
			case len(a) == 2:
				body = []byte(a[1])
			case data != "":
				var err error
				if body, err = g.readData(data); err != nil {
					return err
				}
			default:
				return usageError{fmt.Errorf("a message body is required (an argument or --data)")}
			}
			msg := api.SendMessage{ContentType: contentType}
			if cmd.Flags().Changed("delay") {
				if delay < 0 {
					return usageError{fmt.Errorf("--delay %d must not be negative", delay)}
				}
				msg.DelaySeconds = &delay
			}
			switch contentType {
			case "json":
				if !json.Valid(body) {
					return usageError{fmt.Errorf("the body is not JSON; send text with --content-type text")}
				}
				msg.Body = body
			case "text":
				msg.Body, _ = json.Marshal(string(body))
			case "bytes":
				msg.Body, _ = json.Marshal(base64.StdEncoding.EncodeToString(body))
			default:
				return usageError{fmt.Errorf("--content-type %q is not one of json, text, bytes", contentType)}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.SendQueue(cmd.Context(), a[0], []api.SendMessage{msg})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			g.printf("sent message %s to %s\n", res.Messages[0].ID, res.Queue)
			return nil
		},
	}
	cmd.Flags().StringVarP(&data, "data", "d", "", "message body: text, @FILE, or @- for stdin")
	cmd.Flags().StringVar(&contentType, "content-type", "json", "json, text or bytes")
	cmd.Flags().IntVar(&delay, "delay", 0, "seconds before the message can be delivered (default: none)")
	return cmd
}

func queueRedriveCmd(g *globals) *cobra.Command {
	var to string
	var limit int
	cmd := &cobra.Command{
		Use:   "redrive QUEUE --to TARGET",
		Short: "Move the messages of a queue (a dead-letter queue) to another, with fresh attempts",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if to == "" {
				return usageError{fmt.Errorf("--to QUEUE is required")}
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d must not be negative", limit)}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.RedriveQueue(cmd.Context(), a[0], to, limit)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			g.printf("moved %d message%s from %s to %s\n", res.Moved, plural(res.Moved), res.From, res.To)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the queue to move the messages to")
	cmd.Flags().IntVar(&limit, "limit", 0, "messages to move at most (default: all)")
	return cmd
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// nextRun renders a service's next cron run in UTC (crons are UTC): the
// time of day when it is less than a day away, else the date too.
func nextRun(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	if t.Sub(now) < 24*time.Hour {
		return t.UTC().Format("15:04") + " UTC"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}
