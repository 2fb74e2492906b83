package wisp

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
	"unsafe"
)

// Var returns the [vars] entry name: strings as they are, other TOML
// values as JSON.
func Var(name string) (string, bool) {
	b, err := result("var_get", func(p unsafe.Pointer, c uint32) int32 { return hVarGet(name, p, c) })
	return string(b), err == nil
}

// Secret returns the secret name.
func Secret(name string) (string, bool) {
	b, err := result("secret_get", func(p unsafe.Pointer, c uint32) int32 { return hSecretGet(name, p, c) })
	return string(b), err == nil
}

// Log writes one entry to the service's logs at level (Debug, Info, Warn
// or Error), tagged with the request being served.
func Log(level slog.Level, msg string) {
	l := int32(1)
	switch {
	case level < slog.LevelInfo:
		l = 0
	case level >= slog.LevelError:
		l = 3
	case level >= slog.LevelWarn:
		l = 2
	}
	hLog(l, msg)
}

func encodeOpts(v any) string {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return string(b)
}

// KV is a KV namespace bound in the manifest ([[kv_namespaces]]).
type KV struct{ Binding string }

// KVPutOptions are Put's options.
type KVPutOptions struct {
	Expiration    int64           `json:"expiration,omitempty"`     // unix seconds
	ExpirationTTL int64           `json:"expiration_ttl,omitempty"` // seconds from now
	Metadata      json.RawMessage `json:"metadata,omitempty"`
}

// KVListOptions are List's options.
type KVListOptions struct {
	Prefix string `json:"prefix,omitempty"`
	Limit  int    `json:"limit,omitempty"` // 1..1000; 0 means 1000
	Cursor string `json:"cursor,omitempty"`
}

// KVKey is one listed key.
type KVKey struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// KVList is one page of keys.
type KVList struct {
	Keys         []KVKey `json:"keys"`
	ListComplete bool    `json:"list_complete"`
	Cursor       string  `json:"cursor,omitempty"`
}

// Get returns the value of key, or ErrNotFound.
func (kv KV) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return result("kv_get", func(p unsafe.Pointer, c uint32) int32 { return hKvGet(kv.Binding, key, p, c) })
}

// Put stores value under key; opts may be nil.
func (kv KV) Put(ctx context.Context, key string, value []byte, opts *KVPutOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	return status("kv_put", hKvPut(kv.Binding, key, bytesPtr(value), uint32(len(value)), o))
}

// Delete removes key; deleting an absent key is not an error.
func (kv KV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return status("kv_delete", hKvDelete(kv.Binding, key))
}

// List returns one page of keys in byte order; opts may be nil.
func (kv KV) List(ctx context.Context, opts *KVListOptions) (*KVList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	b, err := result("kv_list", func(p unsafe.Pointer, c uint32) int32 { return hKvList(kv.Binding, o, p, c) })
	if err != nil {
		return nil, err
	}
	var l KVList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, &Error{Op: "kv_list", Code: CodeFailed, Message: "kv_list: decode result: " + err.Error()}
	}
	return &l, nil
}

// Bucket is an object storage bucket bound in the manifest ([[buckets]]).
type Bucket struct{ Binding string }

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key            string            `json:"key"`
	Size           int64             `json:"size"`
	ETag           string            `json:"etag"`
	Version        string            `json:"version,omitempty"` // changes with every put
	Uploaded       time.Time         `json:"uploaded"`
	ContentType    string            `json:"content_type,omitempty"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
	HTTPMetadata   *HTTPMetadata     `json:"http_metadata,omitempty"` // nil when none was stored
	// Range is the byte range a Get or Open returned (nil elsewhere).
	Range *Range `json:"range,omitempty"`
}

// HTTPMetadata are the HTTP headers other than Content-Type stored with
// an object (R2's httpMetadata). WriteHeaders sets them on a response.
type HTTPMetadata struct {
	ContentLanguage    string    `json:"content_language,omitempty"`
	ContentDisposition string    `json:"content_disposition,omitempty"`
	ContentEncoding    string    `json:"content_encoding,omitempty"`
	CacheControl       string    `json:"cache_control,omitempty"`
	CacheExpiry        time.Time `json:"cache_expiry,omitzero"` // sent as Expires
}

// Range is a byte range of an object.
type Range struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// ObjectPutOptions are Put's options.
type ObjectPutOptions struct {
	ContentType    string            `json:"content_type,omitempty"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
	HTTPMetadata   *HTTPMetadata     `json:"http_metadata,omitempty"`
	// MD5, when set (hex), must match the body's digest, else the put
	// fails and nothing is stored.
	MD5 string `json:"md5,omitempty"`
}

// ObjectGetOptions select a byte range; zero values mean the whole object.
type ObjectGetOptions struct {
	Offset int64 `json:"offset,omitempty"`
	Length int64 `json:"length,omitempty"` // 0: to the end
	Suffix int64 `json:"suffix,omitempty"` // > 0: the last Suffix bytes instead
}

// ObjectListOptions are List's options.
type ObjectListOptions struct {
	Prefix     string `json:"prefix,omitempty"`
	Cursor     string `json:"cursor,omitempty"`
	Delimiter  string `json:"delimiter,omitempty"`
	StartAfter string `json:"start_after,omitempty"` // only keys after this one
	Limit      int    `json:"limit,omitempty"`
}

// ObjectList is one page of objects.
type ObjectList struct {
	Objects           []ObjectInfo `json:"objects"`
	DelimitedPrefixes []string     `json:"delimited_prefixes"`
	Truncated         bool         `json:"truncated"`
	Cursor            string       `json:"cursor,omitempty"`
}

func decodeInfo(op string, b []byte) (*ObjectInfo, error) {
	var i ObjectInfo
	if err := json.Unmarshal(b, &i); err != nil {
		return nil, &Error{Op: op, Code: CodeFailed, Message: op + ": decode result: " + err.Error()}
	}
	return &i, nil
}

// Get returns an object's info and body (or the range opts selects), or
// ErrNotFound; opts may be nil.
func (b Bucket) Get(ctx context.Context, key string, opts *ObjectGetOptions) (*ObjectInfo, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	res, err := result("object_get", func(p unsafe.Pointer, c uint32) int32 { return hObjectGet(b.Binding, key, o, p, c) })
	if err != nil {
		return nil, nil, err
	}
	ss, body, err := parseList(res)
	if err != nil || len(ss) != 1 {
		return nil, nil, &Error{Op: "object_get", Code: CodeFailed, Message: "object_get: malformed result"}
	}
	info, err := decodeInfo("object_get", []byte(ss[0]))
	return info, body, err
}

// Head returns an object's info, or ErrNotFound.
func (b Bucket) Head(ctx context.Context, key string) (*ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := result("object_head", func(p unsafe.Pointer, c uint32) int32 { return hObjectHead(b.Binding, key, p, c) })
	if err != nil {
		return nil, err
	}
	return decodeInfo("object_head", res)
}

// Put stores body under key; opts may be nil.
func (b Bucket) Put(ctx context.Context, key string, body []byte, opts *ObjectPutOptions) (*ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	res, err := result("object_put", func(p unsafe.Pointer, c uint32) int32 {
		return hObjectPut(b.Binding, key, bytesPtr(body), uint32(len(body)), o, p, c)
	})
	if err != nil {
		return nil, err
	}
	return decodeInfo("object_put", res)
}

// Delete removes objects; absent keys are not an error.
func (b Bucket) Delete(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l := appendList(nil, keys...)
	return status("object_delete", hObjectDelete(b.Binding, bytesPtr(l), uint32(len(l))))
}

// List returns one page of objects; opts may be nil.
func (b Bucket) List(ctx context.Context, opts *ObjectListOptions) (*ObjectList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	res, err := result("object_list", func(p unsafe.Pointer, c uint32) int32 { return hObjectList(b.Binding, o, p, c) })
	if err != nil {
		return nil, err
	}
	var l ObjectList
	if err := json.Unmarshal(res, &l); err != nil {
		return nil, &Error{Op: "object_list", Code: CodeFailed, Message: "object_list: decode result: " + err.Error()}
	}
	return &l, nil
}

// Queue is a queue producer bound in the manifest ([[queues.producers]]).
type Queue struct{ Binding string }

// SendOptions are Send's options.
type SendOptions struct {
	ContentType  string `json:"content_type,omitempty"` // "json", "text" or "bytes" (default)
	DelaySeconds int    `json:"delay_seconds,omitempty"`
}

// Send puts one message on the queue; opts may be nil.
func (q Queue) Send(ctx context.Context, body []byte, opts *SendOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	return status("queue_send", hQueueSend(q.Binding, bytesPtr(body), uint32(len(body)), o))
}

// SendJSON encodes v as JSON and sends it with content type "json".
func (q Queue) SendJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return q.Send(ctx, b, &SendOptions{ContentType: "json"})
}
