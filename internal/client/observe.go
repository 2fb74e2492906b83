package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/wisp-run/wisp/internal/api"
)

// Trace returns the spans the node kept of a trace, by trace id or by the
// request id of one of its invocations.
func (c *Client) Trace(ctx context.Context, id string) (*api.Trace, error) {
	var out api.Trace
	return &out, c.call(ctx, "GET", "/v1/traces/"+url.PathEscape(id), nil, "", &out)
}

// Traces lists recent traces kept on the node, newest first.
func (c *Client) Traces(ctx context.Context, service string, limit int) ([]api.TraceSummary, error) {
	v := url.Values{}
	if service != "" {
		v.Set("service", service)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out []api.TraceSummary
	return out, c.call(ctx, "GET", "/v1/traces?"+v.Encode(), nil, "", &out)
}

// Usage reports usage per service and UTC day since the day of since
// ("", "7d", "36h", "2026-11-01", an RFC 3339 time).
func (c *Client) Usage(ctx context.Context, since, service string) (*api.UsageReport, error) {
	v := url.Values{}
	if since != "" {
		v.Set("since", since)
	}
	if service != "" {
		v.Set("service", service)
	}
	var out api.UsageReport
	return &out, c.call(ctx, "GET", "/v1/usage?"+v.Encode(), nil, "", &out)
}
