package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/queue"
)

// Queues lists the queues.
func (c *Client) Queues(ctx context.Context) ([]api.QueueInfo, error) {
	var out []api.QueueInfo
	return out, c.call(ctx, "GET", "/v1/queues", nil, "", &out)
}

// PeekQueue reads up to limit of a queue's messages without consuming
// them.
func (c *Client) PeekQueue(ctx context.Context, name string, limit int) ([]queue.Peeked, error) {
	var out []queue.Peeked
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	return out, c.call(ctx, "GET", "/v1/queues/"+url.PathEscape(name)+"/messages?"+q.Encode(), nil, "", &out)
}

// SendQueue sends messages to a queue.
func (c *Client) SendQueue(ctx context.Context, name string, msgs []api.SendMessage) (*api.SendResult, error) {
	body, err := json.Marshal(api.SendRequest{Messages: msgs})
	if err != nil {
		return nil, fmt.Errorf("encode messages: %w", err)
	}
	var out api.SendResult
	return &out, c.call(ctx, "POST", "/v1/queues/"+url.PathEscape(name)+"/messages", bytes.NewReader(body), "application/json", &out)
}

// RedriveQueue moves up to limit (0: all) messages from one queue to
// another.
func (c *Client) RedriveQueue(ctx context.Context, from, to string, limit int) (*api.RedriveResult, error) {
	body, _ := json.Marshal(api.RedriveRequest{To: to, Limit: limit})
	var out api.RedriveResult
	return &out, c.call(ctx, "POST", "/v1/queues/"+url.PathEscape(from)+"/redrive", bytes.NewReader(body), "application/json", &out)
}

// Invocation reads an asynchronous invocation's outcome.
func (c *Client) Invocation(ctx context.Context, id string) (*job.Invocation, error) {
	var out job.Invocation
	return &out, c.call(ctx, "GET", "/v1/invocations/"+url.PathEscape(id), nil, "", &out)
}

// Accepted is the answer to an asynchronous invocation.
type Accepted struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Status  string `json:"status"`
}

// InvokeAsync queues an invocation of a service (Prefer: respond-async)
// and returns its id; callback, when set, is where the outcome is posted.
func (c *Client) InvokeAsync(ctx context.Context, name, method, path string, header http.Header, body []byte, callback string) (*Accepted, error) {
	if header == nil {
		header = http.Header{}
	} else {
		header = header.Clone()
	}
	header.Set("Prefer", "respond-async")
	if callback != "" {
		header.Set("X-Callback-Url", callback)
	}
	res, err := c.Invoke(ctx, name, method, path, header, body)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusAccepted {
		return nil, &Error{Status: res.Status, Message: fmt.Sprintf("%s did not accept the asynchronous invocation: %s", name, bytes.TrimSpace(res.Body))}
	}
	var out Accepted
	if err := json.NewDecoder(io.LimitReader(bytes.NewReader(res.Body), 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the answer to an asynchronous invocation: %w", err)
	}
	return &out, nil
}
