package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/wisp-run/wisp/internal/logs"
)

// LogsQuery selects log entries: Since is a duration back ("10m") or an
// RFC 3339 time; Level the lowest level shown.
type LogsQuery struct {
	Since  string
	Level  string
	Follow bool
}

// Logs calls fn for each of a service's log entries, oldest first. With
// Follow it keeps reading until ctx ends (then it returns nil).
func (c *Client) Logs(ctx context.Context, service string, q LogsQuery, fn func(logs.Entry) error) error {
	v := url.Values{}
	if q.Since != "" {
		v.Set("since", q.Since)
	}
	if q.Level != "" {
		v.Set("level", q.Level)
	}
	if q.Follow {
		v.Set("follow", strconv.FormatBool(true))
	}
	req, err := c.request(ctx, "GET", "/v1/services/"+url.PathEscape(service)+"/logs?"+v.Encode(), nil, "")
	if err != nil {
		return err
	}
	hc := *c.HTTP
	hc.Timeout = 0 // a followed stream lasts as long as ctx
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach the wisp admin API at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e logs.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("decode log entry: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}
