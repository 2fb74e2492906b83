package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wisp-run/wisp/internal/logs"
)

// DefaultLogsSince is how far back `GET .../logs` reads without ?since.
const DefaultLogsSince = 15 * time.Minute

// parseSince reads ?since as a duration back from now ("10m") or an
// RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.Add(-DefaultLogsSince), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("since %q must not be negative", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q is neither a duration (10m, 2h) nor an RFC 3339 time", s)
	}
	return t, nil
}

// logs streams a service's log entries as NDJSON. Query: since, level
// (debug|info|warn|error: that level and above), follow (true: keep the
// response open and stream new entries as they are written).
func (h *Handler) logs(w http.ResponseWriter, r *http.Request) error {
	name, err := serviceName(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"), time.Now())
	if err != nil {
		return BadRequest(err.Error())
	}
	level := logs.Level(q.Get("level"))
	if level != "" && !logs.ValidLevel(level) {
		return BadRequest(fmt.Sprintf("level %q is not one of debug, info, warn, error", level))
	}
	follow := false
	if f := q.Get("follow"); f != "" {
		if follow, err = strconv.ParseBool(f); err != nil {
			return BadRequest(fmt.Sprintf("follow %q is not a boolean", f))
		}
	}
	rc := http.NewResponseController(w)
	started := false
	begin := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
	}
	if follow {
		begin()
		_ = rc.Flush() // the client knows it is connected before the first entry
	}
	enc := json.NewEncoder(w)
	err = h.c.Logs(r.Context(), logs.Query{Service: name, Since: since, MinLevel: level, Follow: follow}, func(e logs.Entry) error {
		begin()
		if err := enc.Encode(e); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err != nil && !started {
		return err
	}
	begin()
	return nil
}
