package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wisp-run/wisp/sdk/go/wisp"
)

func kvError(op string, status int, format string, args ...any) error {
	return fmt.Errorf("KV %s failed: %d %s", op, status, fmt.Sprintf(format, args...))
}

// value is the bytes an operation carries: m.hex, m.json (as
// JSON.stringify prints it) or m.text; nil when it carries none.
func value(m msg) []byte {
	switch {
	case m.has("hex"):
		b, _ := hex.DecodeString(m.str("hex"))
		return b
	case m.has("json"):
		var b bytes.Buffer
		_ = json.Compact(&b, m["json"])
		return b.Bytes()
	case m.has("text"):
		return []byte(m.str("text"))
	}
	return nil
}

// kvType is get()'s type argument: a string, or an object with type and
// cacheTtl.
func kvType(m msg) (string, error) {
	t := "text"
	if m.has("options") {
		var s string
		if json.Unmarshal(m["options"], &s) == nil {
			t = s
		} else {
			o := m.obj("options")
			if o.has("type") {
				t = o.str("type")
			}
			if o.has("cacheTtl") {
				if ttl, ok := o.num("cacheTtl"); !ok || ttl < 30 {
					return "", kvError("GET", 400, "Invalid cache_ttl of %s. Cache TTL must be at least 30.", o.raw("cacheTtl"))
				}
			}
		}
	}
	switch t {
	case "text", "arrayBuffer", "json", "stream":
		return t, nil
	}
	return "", typeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`)
}

// decode gives a value as get(key, type) does; arrayBuffer and stream
// bytes as {"hex": ...}, as the JS guest reports them.
func decode(v []byte, t string) (any, error) {
	switch t {
	case "json":
		var out any
		if err := json.Unmarshal(v, &out); err != nil {
			return nil, &jsError{"SyntaxError", err.Error()}
		}
		return out, nil
	case "arrayBuffer", "stream":
		// A Go service gets a value's bytes (at most 25 MiB); "stream" is
		// the JS API's other way of reading them.
		return map[string]string{"hex": hex.EncodeToString(v)}, nil
	}
	return string(v), nil
}

func kvGet(r *http.Request, m msg, withMetadata bool) (any, error) {
	kv := wisp.KV{Binding: m.str("binding")}
	var keys []string
	if json.Unmarshal(m["key"], &keys) == nil {
		return kvBulk(r, kv, keys, m, withMetadata)
	}
	t, err := kvType(m)
	if err != nil {
		return nil, err
	}
	key := m.str("key")
	if !withMetadata {
		v, err := kv.Get(r.Context(), key)
		if errors.Is(err, wisp.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return decode(v, t)
	}
	e, err := kv.GetWithMetadata(r.Context(), key)
	if errors.Is(err, wisp.ErrNotFound) {
		return map[string]any{"value": nil, "metadata": nil, "cacheStatus": nil}, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := decode(e.Value, t)
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": v, "metadata": metadata(e.Metadata), "cacheStatus": nil}, nil
}

func metadata(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return raw
}

// kvBulk is get([keys], type): Workers' bulk read, one get per key.
func kvBulk(r *http.Request, kv wisp.KV, keys []string, m msg, withMetadata bool) (any, error) {
	if len(keys) < 1 {
		return nil, kvError("GET", 400, "You must request a minimum of 1 key")
	}
	if len(keys) > 100 {
		return nil, kvError("GET", 400, "You can request a maximum of 100 keys")
	}
	t, err := kvType(m)
	if err != nil {
		return nil, err
	}
	if t != "text" && t != "json" {
		return nil, kvError("GET", 400, `"%s" is not a valid type. Use "json" or "text"`, t)
	}
	out := map[string]any{}
	for _, k := range keys {
		e, err := kv.GetWithMetadata(r.Context(), k)
		if errors.Is(err, wisp.ErrNotFound) {
			out[k] = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := decode(e.Value, t)
		if err != nil {
			return nil, err
		}
		if withMetadata {
			out[k] = map[string]any{"value": v, "metadata": metadata(e.Metadata)}
		} else {
			out[k] = v
		}
	}
	return out, nil
}

// putOptions translates put()'s options.
func putOptions(m msg) (*wisp.KVPutOptions, error) {
	o := m.obj("options")
	opts := &wisp.KVPutOptions{}
	if o.has("expiration") {
		n, ok := o.num("expiration")
		if !ok || n <= 0 {
			return nil, kvError("PUT", 400, "Invalid expiration of %s. Please specify integer greater than the current number of seconds since the UNIX epoch.", o.raw("expiration"))
		}
		opts.Expiration = n
	}
	if o.has("expirationTtl") {
		n, ok := o.num("expirationTtl")
		if !ok || n <= 0 {
			return nil, kvError("PUT", 400, "Invalid expiration_ttl of %s. Please specify integer greater than 0.", o.raw("expirationTtl"))
		}
		opts.ExpirationTTL = n
	}
	if o.has("metadata") {
		var b bytes.Buffer
		_ = json.Compact(&b, o["metadata"])
		opts.Metadata = b.Bytes()
	}
	return opts, nil
}

func init() {
	ops["kv.get"] = func(r *http.Request, m msg) (any, error) { return kvGet(r, m, false) }
	ops["kv.getWithMetadata"] = func(r *http.Request, m msg) (any, error) { return kvGet(r, m, true) }
	ops["kv.put"] = func(r *http.Request, m msg) (any, error) {
		opts, err := putOptions(m)
		if err != nil {
			return nil, err
		}
		v := value(m)
		if v == nil && !m.has("text") && !m.has("hex") && !m.has("json") {
			// put(key, undefined) in the JS guest.
			return nil, typeError("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.")
		}
		return true, wisp.KV{Binding: m.str("binding")}.Put(r.Context(), m.str("key"), v, opts)
	}
	ops["kv.delete"] = func(r *http.Request, m msg) (any, error) {
		return true, wisp.KV{Binding: m.str("binding")}.Delete(r.Context(), m.str("key"))
	}
	// putStream writes m.chunks (text), then m.extraMiB MiB of zeros,
	// through an io.Reader read in pieces.
	ops["kv.putStream"] = func(r *http.Request, m msg) (any, error) {
		var chunks []string
		_ = json.Unmarshal(m["chunks"], &chunks)
		var parts []io.Reader
		for _, c := range chunks {
			parts = append(parts, strings.NewReader(c))
		}
		extra, _ := m.num("extraMiB")
		zeros := make([]byte, 1<<20)
		for range extra {
			parts = append(parts, bytes.NewReader(zeros))
		}
		return true, wisp.KV{Binding: m.str("binding")}.PutReader(r.Context(), m.str("key"), io.MultiReader(parts...), nil)
	}
	ops["kv.list"] = func(r *http.Request, m msg) (any, error) {
		o := m.obj("options")
		opts := &wisp.KVListOptions{Prefix: o.str("prefix"), Cursor: o.str("cursor")}
		if o.has("limit") {
			n, ok := o.num("limit")
			if !ok || n <= 0 {
				return nil, kvError("LIST", 400, "Invalid key_count_limit of %s. Please specify an integer greater than 0.", o.raw("limit"))
			}
			opts.Limit = int(n)
		}
		l, err := wisp.KV{Binding: m.str("binding")}.List(r.Context(), opts)
		if err != nil {
			return nil, err
		}
		keys := []any{}
		for _, k := range l.Keys {
			o := map[string]any{"name": k.Name}
			if k.Expiration != 0 {
				o["expiration"] = k.Expiration
			}
			if k.Metadata != nil {
				o["metadata"] = k.Metadata
			}
			keys = append(keys, o)
		}
		out := map[string]any{"keys": keys, "list_complete": l.ListComplete, "cacheStatus": nil}
		if !l.ListComplete {
			out["cursor"] = l.Cursor
		}
		return out, nil
	}
	ops["kv.fill"] = func(r *http.Request, m msg) (any, error) {
		kv := wisp.KV{Binding: m.str("binding")}
		prefix := m.str("prefix")
		count, _ := m.num("count")
		for j := range count {
			md := fmt.Appendf(nil, `{"n":%d}`, j)
			if err := kv.Put(r.Context(), fmt.Sprintf("%s%06d", prefix, j), fmt.Appendf(nil, "v%d", j), &wisp.KVPutOptions{Metadata: md}); err != nil {
				return nil, err
			}
		}
		return count, nil
	}
	ops["kv.listAll"] = func(r *http.Request, m msg) (any, error) {
		kv := wisp.KV{Binding: m.str("binding")}
		prefix := m.str("prefix")
		limit, _ := m.num("limit")
		var names []string
		cursor := ""
		pages := 0
		metadataOK := true
		for {
			l, err := kv.List(r.Context(), &wisp.KVListOptions{Prefix: prefix, Limit: int(limit), Cursor: cursor})
			if err != nil {
				return nil, err
			}
			pages++
			for _, k := range l.Keys {
				var md struct{ N *int }
				if k.Metadata == nil || json.Unmarshal(k.Metadata, &md) != nil || md.N == nil || k.Name != fmt.Sprintf("%s%06d", prefix, *md.N) {
					metadataOK = false
				}
				names = append(names, k.Name)
			}
			if l.ListComplete {
				break
			}
			cursor = l.Cursor
		}
		sorted := true
		for i := 1; i < len(names); i++ {
			sorted = sorted && names[i-1] < names[i]
		}
		out := map[string]any{"count": len(names), "pages": pages, "sorted": sorted, "metadataOK": metadataOK}
		if len(names) > 0 {
			out["first"], out["last"] = names[0], names[len(names)-1]
		}
		return out, nil
	}
}
