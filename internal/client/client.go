package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/api"
)

// Client calls one node's admin API.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8081
	Token string
	HTTP  *http.Client
}

// New returns a client for the admin API at base.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Error is a failed admin API call.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func (c *Client) request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// call does one JSON call; out may be nil.
func (c *Client) call(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := c.request(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the wisp admin API at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s response: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb api.ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		return &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("admin API answered %s: %s", resp.Status, strings.TrimSpace(string(b)))}
}

// Services lists the services.
func (c *Client) Services(ctx context.Context) ([]api.ServiceInfo, error) {
	var out []api.ServiceInfo
	return out, c.call(ctx, "GET", "/v1/services", nil, "", &out)
}

// Service describes one service.
func (c *Client) Service(ctx context.Context, name string) (*api.ServiceInfo, error) {
	var out api.ServiceInfo
	return &out, c.call(ctx, "GET", "/v1/services/"+url.PathEscape(name), nil, "", &out)
}

// Versions lists a service's versions, oldest first.
func (c *Client) Versions(ctx context.Context, name string) ([]api.VersionInfo, error) {
	var out []api.VersionInfo
	return out, c.call(ctx, "GET", "/v1/services/"+url.PathEscape(name)+"/versions", nil, "", &out)
}

// Deploy uploads a built service.
func (c *Client) Deploy(ctx context.Context, name, manifestPath string, manifestText, code []byte) (*api.DeployResult, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, part := range []struct {
		field, file string
		data        []byte
	}{{"manifest", manifestPath, manifestText}, {"code", "code", code}} {
		w, err := mw.CreateFormFile(part.field, part.file)
		if err != nil {
			return nil, fmt.Errorf("encode deploy: %w", err)
		}
		if _, err := w.Write(part.data); err != nil {
			return nil, fmt.Errorf("encode deploy: %w", err)
		}
	}
	if err := mw.WriteField("manifest_path", manifestPath); err != nil {
		return nil, fmt.Errorf("encode deploy: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("encode deploy: %w", err)
	}
	var out api.DeployResult
	return &out, c.call(ctx, "POST", "/v1/services/"+url.PathEscape(name)+"/versions", &buf, mw.FormDataContentType(), &out)
}

// Rollback points a service at an older version ("" for the previous).
func (c *Client) Rollback(ctx context.Context, name, version string) (*api.DeployResult, error) {
	body, _ := json.Marshal(api.RollbackRequest{Version: version})
	var out api.DeployResult
	return &out, c.call(ctx, "POST", "/v1/services/"+url.PathEscape(name)+"/rollback", bytes.NewReader(body), "application/json", &out)
}

// Remove deletes a service.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.call(ctx, "DELETE", "/v1/services/"+url.PathEscape(name), nil, "", nil)
}

// InvokeResult is a service's response to a direct invocation.
type InvokeResult struct {
	Status    int
	Header    http.Header
	Body      []byte
	RequestID string
}

// Invoke runs a service directly (ignoring routes) with method, path and
// body. A response from the service is returned whatever its status; an
// error means the admin API itself refused the call.
func (c *Client) Invoke(ctx context.Context, name, method, path string, header http.Header, body []byte) (*InvokeResult, error) {
	q := url.Values{"path": {path}}
	if method != "" {
		q.Set("method", method)
	}
	req, err := c.request(ctx, "POST", "/v1/services/"+url.PathEscape(name)+"/invoke?"+q.Encode(), bytes.NewReader(body), "")
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the wisp admin API at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Wisp-Request-Id")
	if id == "" && resp.StatusCode >= 300 {
		return nil, decodeError(resp) // the admin API's own error, not the service's
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the response of %s: %w", name, err)
	}
	return &InvokeResult{Status: resp.StatusCode, Header: resp.Header, Body: b, RequestID: id}, nil
}
