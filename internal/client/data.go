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
)

func kvPath(service, bindingName, what string) string {
	return "/v1/services/" + url.PathEscape(service) + "/kv/" + url.PathEscape(bindingName) + "/" + what
}

// KVValue is a value read from KV.
type KVValue struct {
	Value      []byte
	Expiration int64           // unix seconds; 0 when it does not expire
	Metadata   json.RawMessage // nil when none
}

// KVGet reads a key of a service's KV binding; nil when it is absent.
func (c *Client) KVGet(ctx context.Context, service, bindingName, key string) (*KVValue, error) {
	req, err := c.request(ctx, "GET", kvPath(service, bindingName, "value")+"?"+url.Values{"key": {key}}.Encode(), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the wisp admin API at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		err := decodeError(resp)
		if e, ok := err.(*Error); ok && e.Code == api.CodeKeyNotFound {
			return nil, nil
		}
		return nil, err
	}
	v := &KVValue{}
	if v.Value, err = io.ReadAll(resp.Body); err != nil {
		return nil, fmt.Errorf("read the value of %q: %w", key, err)
	}
	v.Expiration, _ = strconv.ParseInt(resp.Header.Get(api.HeaderKVExpiration), 10, 64)
	if m := resp.Header.Get(api.HeaderKVMetadata); m != "" {
		v.Metadata = json.RawMessage(m)
	}
	return v, nil
}

// KVPutOptions are a put's expiry and metadata (zero: none).
type KVPutOptions struct {
	Expiration    int64
	ExpirationTTL int64
	Metadata      json.RawMessage
}

// KVPut writes a key of a service's KV binding.
func (c *Client) KVPut(ctx context.Context, service, bindingName, key string, value []byte, o KVPutOptions) error {
	q := url.Values{"key": {key}}
	if o.Expiration != 0 {
		q.Set("expiration", strconv.FormatInt(o.Expiration, 10))
	}
	if o.ExpirationTTL != 0 {
		q.Set("expiration_ttl", strconv.FormatInt(o.ExpirationTTL, 10))
	}
	req, err := c.request(ctx, "PUT", kvPath(service, bindingName, "value")+"?"+q.Encode(), bytes.NewReader(value), "application/octet-stream")
	if err != nil {
		return err
	}
	if o.Metadata != nil {
		req.Header.Set(api.HeaderKVMetadata, string(o.Metadata))
	}
	return c.do(req, nil)
}

// KVDelete removes a key of a service's KV binding.
func (c *Client) KVDelete(ctx context.Context, service, bindingName, key string) error {
	return c.call(ctx, "DELETE", kvPath(service, bindingName, "value")+"?"+url.Values{"key": {key}}.Encode(), nil, "", nil)
}

// KVList lists one page of keys of a service's KV binding.
func (c *Client) KVList(ctx context.Context, service, bindingName, prefix, cursor string, limit int) (*api.KVListResult, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.KVListResult
	return &out, c.call(ctx, "GET", kvPath(service, bindingName, "keys")+"?"+q.Encode(), nil, "", &out)
}

// PutSecret sets a secret of a service.
func (c *Client) PutSecret(ctx context.Context, service, name, value string) (*api.SecretResult, error) {
	body, _ := json.Marshal(api.SecretRequest{Value: value})
	var out api.SecretResult
	return &out, c.call(ctx, "PUT", "/v1/services/"+url.PathEscape(service)+"/secrets/"+url.PathEscape(name), bytes.NewReader(body), "application/json", &out)
}

// DeleteSecret removes a secret of a service.
func (c *Client) DeleteSecret(ctx context.Context, service, name string) error {
	return c.call(ctx, "DELETE", "/v1/services/"+url.PathEscape(service)+"/secrets/"+url.PathEscape(name), nil, "", nil)
}

// Secrets lists a service's secrets by name (values are never returned).
func (c *Client) Secrets(ctx context.Context, service string) ([]api.SecretInfo, error) {
	var out []api.SecretInfo
	return out, c.call(ctx, "GET", "/v1/services/"+url.PathEscape(service)+"/secrets", nil, "", &out)
}

// do sends a prepared request and decodes a JSON answer into out (if not nil).
func (c *Client) do(req *http.Request, out any) error {
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
	return json.NewDecoder(resp.Body).Decode(out)
}
