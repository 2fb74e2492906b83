package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/usage"
)

// Span is one span of a trace as the admin API shows it.
type Span struct {
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_id,omitempty"`
	Service    string         `json:"service"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"` // server, client, producer, consumer, internal
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Error      bool           `json:"error,omitempty"`
	Status     string         `json:"status,omitempty"` // the error's description
	Attributes map[string]any `json:"attributes,omitempty"`
	Links      []SpanLink     `json:"links,omitempty"`
}

// SpanLink points at a span of another (or the same) trace: a queue batch
// links the spans that sent its messages.
type SpanLink struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// Trace is the spans of one trace kept on the node that answered.
type Trace struct {
	TraceID string `json:"trace_id"`
	Spans   []Span `json:"spans"` // by start time
}

// TraceSummary describes one kept trace in a listing.
type TraceSummary struct {
	TraceID    string    `json:"trace_id"`
	Root       string    `json:"root"` // service and name of its first span
	Start      time.Time `json:"start"`
	DurationMS float64   `json:"duration_ms"`
	Spans      int       `json:"spans"`
	Error      bool      `json:"error,omitempty"`
}

// UsageRow is one service's usage on one UTC day (or, as a report's
// total, everything): the raw sums and the billing units.
type UsageRow struct {
	usage.Row
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	GBSeconds   float64 `json:"gb_seconds"`
}

// NewUsageRow adds the billing units to r.
func NewUsageRow(r usage.Row) UsageRow {
	return UsageRow{Row: r, WallSeconds: float64(r.WallNS) / 1e9, CPUSeconds: float64(r.CPUNS) / 1e9, GBSeconds: r.GBSeconds()}
}

// UsageReport answers GET /v1/usage.
type UsageReport struct {
	Since time.Time  `json:"since"` // the first day counted, 00:00 UTC
	Rows  []UsageRow `json:"rows"`  // by day, then service
	Total UsageRow   `json:"total"`
	// CPUMeasured is false when this node's platform cannot measure CPU
	// time (only Linux can): cpu fields are then 0.
	CPUMeasured bool `json:"cpu_measured"`
}

// ParseUsageSince reads ?since for usage: "" (today), a number of days
// back ("7d"), a duration back ("36h"), a date (2026-11-01) or an RFC
// 3339 time. Usage is kept per UTC day, so the day containing the time
// is the first one counted.
func ParseUsageSince(s string, now time.Time) (time.Time, error) {
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	switch {
	case s == "":
		return day(now), nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("since %q: a number of days is written like 7d", s)
		}
		return day(now.Add(-time.Duration(n) * 24 * time.Hour)), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("since %q must not be negative", s)
		}
		return day(now.Add(-d)), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q is neither a number of days (7d), a duration (36h), a date (2026-11-01) nor an RFC 3339 time", s)
	}
	return day(t), nil
}

// DefaultTraceList is how many traces GET /v1/traces lists by default.
const DefaultTraceList = 20

func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	m := h.c.Metrics()
	if m == nil {
		writeError(w, NotFound("metrics are off on this node"))
		return
	}
	m.ServeHTTP(w, r)
}

func (h *Handler) listTraces(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := DefaultTraceList
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return BadRequest(fmt.Sprintf("limit %q is not a number from 1 to 1000", l))
		}
		limit = n
	}
	list, err := h.c.Traces(r.Context(), q.Get("service"), limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []TraceSummary{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) getTrace(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !isHex(id, 32) && !isHex(id, 16) {
		return BadRequest(fmt.Sprintf("%q is neither a trace id (32 hex digits) nor a request id (16 hex digits)", id))
	}
	t, err := h.c.Trace(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (h *Handler) usage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	since, err := ParseUsageSince(q.Get("since"), time.Now())
	if err != nil {
		return BadRequest(err.Error())
	}
	svc := q.Get("service")
	if svc != "" && !validServiceName(svc) {
		return BadRequest(fmt.Sprintf("%q is not a valid service name", svc))
	}
	rep, err := h.c.Usage(r.Context(), usage.Query{Since: since, Service: svc})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
