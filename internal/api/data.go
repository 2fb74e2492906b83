package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
)

// Data is what the KV and secrets endpoints drive; the node implements
// it. Secret values go in and never come out. Errors that say what the
// caller got wrong implement StatusError.
type Data interface {
	// KV returns the namespace a service's KV binding names.
	KV(ctx context.Context, service, binding string) (binding.KV, error)
	PutSecret(ctx context.Context, service, name, value string) (*SecretResult, error)
	DeleteSecret(ctx context.Context, service, name string) error
	Secrets(ctx context.Context, service string) ([]SecretInfo, error)
}

// SecretInfo names a secret; its value is never returned.
type SecretInfo struct {
	Name    string    `json:"name"`
	Updated time.Time `json:"updated"`
}

// SecretRequest is the body of PUT /v1/services/{name}/secrets/{secret}.
type SecretRequest struct {
	Value string `json:"value"`
}

// SecretResult answers a secret put.
type SecretResult struct {
	Service  string   `json:"service"`
	Name     string   `json:"name"`
	Status   string   `json:"status"` // "set"
	Warnings []string `json:"warnings,omitempty"`
}

// KVListResult is one page of keys, in Workers' JSON shape.
type KVListResult struct {
	Keys         []KVKeyInfo `json:"keys"`
	ListComplete bool        `json:"list_complete"`
	Cursor       string      `json:"cursor,omitempty"`
}

// KVKeyInfo is one listed key.
type KVKeyInfo struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// Headers of a KV value read or written through the API (Workers' own
// names for the same fields).
const (
	HeaderKVExpiration = "CF-Expiration"
	HeaderKVMetadata   = "CF-KV-Metadata"
)

// CodeInvalidCall is a KV or secrets call refused for its arguments (a key
// too long, a TTL too short, ...); the message says which limit.
const CodeInvalidCall = "invalid_call"

// CodeKeyNotFound is a KV read of an absent (or expired) key.
const CodeKeyNotFound = "key_not_found"

// MaxKVValue is Workers KV's value limit, 25 MiB.
const MaxKVValue = 25 << 20

// StatusError is an error that knows the HTTP status it deserves (KV
// errors carry Workers' own: 400, 413, 414).
type StatusError interface {
	error
	HTTPStatus() int
}

// routeData registers the KV and secrets endpoints when c implements Data.
func (h *Handler) routeData(c Control) {
	d, ok := c.(Data)
	if !ok {
		return
	}
	h.handle("GET /v1/services/{name}/kv/{binding}/keys", func(w http.ResponseWriter, r *http.Request) error { return kvList(d, w, r) })
	h.handle("GET /v1/services/{name}/kv/{binding}/value", func(w http.ResponseWriter, r *http.Request) error { return kvGet(d, w, r) })
	h.handle("PUT /v1/services/{name}/kv/{binding}/value", func(w http.ResponseWriter, r *http.Request) error { return kvPut(d, w, r) })
	h.handle("DELETE /v1/services/{name}/kv/{binding}/value", func(w http.ResponseWriter, r *http.Request) error { return kvDelete(d, w, r) })
	h.handle("GET /v1/services/{name}/secrets", func(w http.ResponseWriter, r *http.Request) error { return secretList(d, w, r) })
	h.handle("PUT /v1/services/{name}/secrets/{secret}", func(w http.ResponseWriter, r *http.Request) error { return secretPut(d, w, r) })
	h.handle("DELETE /v1/services/{name}/secrets/{secret}", func(w http.ResponseWriter, r *http.Request) error { return secretDelete(d, w, r) })
}

// callError gives an error that knows its status that status.
func callError(err error) error {
	var se StatusError
	if !errors.As(err, &se) {
		return err
	}
	code := CodeInvalidCall
	if se.HTTPStatus() == http.StatusServiceUnavailable {
		code = CodeUnavailable
	}
	return &Error{Status: se.HTTPStatus(), Code: code, Message: se.Error()}
}

func kvNamespace(d Data, r *http.Request) (binding.KV, string, error) {
	name, err := serviceName(r)
	if err != nil {
		return nil, "", err
	}
	ns, err := d.KV(r.Context(), name, r.PathValue("binding"))
	return ns, name, err
}

func kvKey(r *http.Request) (string, error) {
	q := r.URL.Query()
	if !q.Has("key") {
		return "", BadRequest("the key is required: ?key=KEY")
	}
	return q.Get("key"), nil
}

func kvList(d Data, w http.ResponseWriter, r *http.Request) error {
	ns, _, err := kvNamespace(d, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := binding.KVListOptions{Prefix: q.Get("prefix"), Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		if o.Limit, err = strconv.Atoi(s); err != nil || o.Limit < 1 {
			return &Error{http.StatusBadRequest, CodeInvalidCall, fmt.Sprintf("KV LIST failed: 400 Invalid key_count_limit of %s. Please specify an integer greater than 0.", s)}
		}
	}
	l, err := ns.List(r.Context(), o)
	if err != nil {
		return callError(err)
	}
	out := KVListResult{Keys: make([]KVKeyInfo, 0, len(l.Keys)), ListComplete: l.Complete, Cursor: l.Cursor}
	for _, k := range l.Keys {
		out.Keys = append(out.Keys, KVKeyInfo{Name: k.Name, Expiration: k.Expiration, Metadata: k.Metadata})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func kvGet(d Data, w http.ResponseWriter, r *http.Request) error {
	ns, svc, err := kvNamespace(d, r)
	if err != nil {
		return err
	}
	key, err := kvKey(r)
	if err != nil {
		return err
	}
	e, err := ns.Get(r.Context(), key)
	if err != nil {
		return callError(err)
	}
	if e == nil {
		return &Error{http.StatusNotFound, CodeKeyNotFound, fmt.Sprintf("key %q not found in %s's KV binding %s", key, svc, r.PathValue("binding"))}
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if e.Expiration != 0 {
		h.Set(HeaderKVExpiration, strconv.FormatInt(e.Expiration, 10))
	}
	if e.Metadata != nil {
		h.Set(HeaderKVMetadata, string(e.Metadata))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.Value)
	return nil
}

func kvPut(d Data, w http.ResponseWriter, r *http.Request) error {
	ns, svc, err := kvNamespace(d, r)
	if err != nil {
		return err
	}
	key, err := kvKey(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var o binding.KVPutOptions
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"expiration", &o.Expiration}, {"expiration_ttl", &o.ExpirationTTL}} {
		if s := q.Get(p.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return &Error{http.StatusBadRequest, CodeInvalidCall, fmt.Sprintf("KV PUT failed: 400 Invalid %s of %s. Please specify integer greater than 0.", p.name, s)}
			}
			*p.dst = n
		}
	}
	if m := r.Header.Get(HeaderKVMetadata); m != "" {
		o.Metadata = json.RawMessage(m)
	}
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxKVValue+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{http.StatusRequestEntityTooLarge, CodeInvalidCall, fmt.Sprintf("KV PUT failed: 413 Value length exceeds limit of %d.", MaxKVValue)}
		}
		return BadRequest("reading the value: " + err.Error())
	}
	if err := ns.Put(r.Context(), key, value, o); err != nil {
		return callError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"service": svc, "binding": r.PathValue("binding"), "key": key, "status": "stored"})
	return nil
}

func kvDelete(d Data, w http.ResponseWriter, r *http.Request) error {
	ns, svc, err := kvNamespace(d, r)
	if err != nil {
		return err
	}
	key, err := kvKey(r)
	if err != nil {
		return err
	}
	if err := ns.Delete(r.Context(), key); err != nil {
		return callError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"service": svc, "binding": r.PathValue("binding"), "key": key, "status": "deleted"})
	return nil
}

func secretList(d Data, w http.ResponseWriter, r *http.Request) error {
	svc, err := serviceName(r)
	if err != nil {
		return err
	}
	list, err := d.Secrets(r.Context(), svc)
	if err != nil {
		return err
	}
	if list == nil {
		list = []SecretInfo{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func secretPut(d Data, w http.ResponseWriter, r *http.Request) error {
	svc, err := serviceName(r)
	if err != nil {
		return err
	}
	name := r.PathValue("secret")
	var req SecretRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		// Never echo the body: it holds the secret.
		return BadRequest(`a secret put is JSON: {"value": "..."}`)
	}
	res, err := d.PutSecret(r.Context(), svc, name, req.Value)
	if err != nil {
		return callError(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func secretDelete(d Data, w http.ResponseWriter, r *http.Request) error {
	svc, err := serviceName(r)
	if err != nil {
		return err
	}
	name := r.PathValue("secret")
	if err := d.DeleteSecret(r.Context(), svc, name); err != nil {
		return callError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"service": svc, "name": name, "status": "deleted"})
	return nil
}
