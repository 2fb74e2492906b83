package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/api"
)

func traceCmd(g *globals) *cobra.Command {
	var service string
	var limit int
	cmd := &cobra.Command{
		Use:   "trace [ID]",
		Short: "Print a trace as a tree with timings (ID: a trace id or a request id); without ID, list recent traces",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if len(a) == 0 {
				list, err := c.Traces(cmd.Context(), service, limit)
				if err != nil {
					return err
				}
				if g.json {
					return g.printJSON(list)
				}
				return printTraceList(g.env.Stdout, list)
			}
			t, err := c.Trace(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(t)
			}
			return printTrace(g.env.Stdout, t)
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "list only traces that went through this service")
	cmd.Flags().IntVar(&limit, "limit", api.DefaultTraceList, "how many traces to list")
	return cmd
}

func printTraceList(w io.Writer, list []api.TraceSummary) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no traces kept on this node")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fprintf(tw, "TRACE\tSTARTED\tDURATION\tSPANS\tROOT\n")
	for _, s := range list {
		root := s.Root
		if s.Error {
			root += "  (error)"
		}
		fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.TraceID, s.Start.Local().Format("15:04:05.000"), fmtDur(time.Duration(s.DurationMS*1e6)), s.Spans, root)
	}
	return tw.Flush()
}

// printTrace draws the spans as a tree, children under their parent by
// start time, each with its start offset from the trace's first span and
// its duration.
func printTrace(w io.Writer, t *api.Trace) error {
	if len(t.Spans) == 0 {
		return nil
	}
	ids := map[string]bool{}
	for _, s := range t.Spans {
		ids[s.SpanID] = true
	}
	children := map[string][]api.Span{}
	var roots []api.Span
	start, end := t.Spans[0].Start, t.Spans[0].End
	for _, s := range t.Spans {
		if s.Start.Before(start) {
			start = s.Start
		}
		if s.End.After(end) {
			end = s.End
		}
		if s.ParentID != "" && ids[s.ParentID] {
			children[s.ParentID] = append(children[s.ParentID], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(list []api.Span) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	}
	byStart(roots)
	fprintf(w, "trace %s  %d spans  %s\n", t.TraceID, len(t.Spans), fmtDur(end.Sub(start)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var walk func(s api.Span, prefix, branch string)
	walk = func(s api.Span, prefix, branch string) {
		fprintf(tw, "%s\t%s\t  %s%s%s\n", fmtDur(s.Start.Sub(start)), fmtDur(s.End.Sub(s.Start)), prefix, branch, spanLabel(s))
		kids := children[s.SpanID]
		byStart(kids)
		next := prefix
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, k := range kids {
			b := "├─ "
			if i == len(kids)-1 {
				b = "└─ "
			}
			walk(k, next, b)
		}
	}
	fprintf(tw, "START\tDURATION\t  SPAN\n")
	for _, r := range roots {
		walk(r, "", "")
	}
	return tw.Flush()
}

// spanLabel says what a span was: the service and the span's name, what
// it was asked (method and path), its answer, and how it ran.
func spanLabel(s api.Span) string {
	var b strings.Builder
	b.WriteString(s.Service)
	b.WriteString(" ")
	b.WriteString(s.Name)
	a := s.Attributes
	if p, ok := a["url.path"].(string); ok && p != "" && !strings.Contains(s.Name, p) {
		b.WriteString(" " + p)
	} else if u, ok := a["url.full"].(string); ok && !strings.Contains(s.Name, u) {
		b.WriteString(" " + u)
	}
	if st, ok := a["http.response.status_code"]; ok {
		fmt.Fprintf(&b, " → %v", st)
	}
	var notes []string
	if tr, ok := a["wisp.trigger"].(string); ok {
		notes = append(notes, tr)
	}
	if cold, ok := a["wisp.cold_start"].(bool); ok && cold {
		notes = append(notes, "cold start")
	}
	if cpu, ok := a["wisp.cpu_ns"].(float64); ok && cpu > 0 { // JSON numbers
		notes = append(notes, "cpu "+fmtDur(time.Duration(cpu)))
	}
	if id, ok := a["wisp.request_id"].(string); ok {
		notes = append(notes, "request "+id)
	}
	if len(notes) > 0 {
		b.WriteString("  (" + strings.Join(notes, ", ") + ")")
	}
	if s.Error {
		b.WriteString("  ERROR")
		if s.Status != "" {
			b.WriteString(": " + s.Status)
		}
	}
	return b.String()
}

// fmtDur prints a duration with about three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}
