package wisp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unsafe"
)

// EnvEntry is one name the service's env holds.
type EnvEntry struct {
	Name string
	Kind string // "var", "secret", "kv", "bucket", "service" or "queue"
}

// Env lists the names bound in the manifest and the service's secrets,
// by name: what a JavaScript worker finds in env.
func Env() ([]EnvEntry, error) {
	b, err := result("env_list", hEnvList)
	if err != nil {
		return nil, err
	}
	ss, _, err := parseList(b)
	if err != nil || len(ss)%2 != 0 {
		return nil, &Error{Op: "env_list", Code: CodeFailed, Message: "env_list: malformed result"}
	}
	out := make([]EnvEntry, 0, len(ss)/2)
	for i := 0; i < len(ss); i += 2 {
		out = append(out, EnvEntry{Kind: ss[i], Name: ss[i+1]})
	}
	return out, nil
}

// KVValue is a value with what was stored with it.
type KVValue struct {
	Value      []byte
	Metadata   json.RawMessage // nil when none
	Expiration int64           // unix seconds; 0 when it does not expire
}

// GetWithMetadata returns the value of key with its metadata and
// expiration, or ErrNotFound.
func (kv KV) GetWithMetadata(ctx context.Context, key string) (*KVValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := result("kv_get_with_metadata", func(p unsafe.Pointer, c uint32) int32 { return hKvGetWithMetadata(kv.Binding, key, p, c) })
	if err != nil {
		return nil, err
	}
	ss, value, err := parseList(res)
	var head struct {
		Metadata   json.RawMessage `json:"metadata"`
		Expiration int64           `json:"expiration"`
	}
	if err != nil || len(ss) != 1 || json.Unmarshal([]byte(ss[0]), &head) != nil {
		return nil, &Error{Op: "kv_get_with_metadata", Code: CodeFailed, Message: "kv_get_with_metadata: malformed result"}
	}
	return &KVValue{Value: value, Metadata: head.Metadata, Expiration: head.Expiration}, nil
}

// MaxKVValue is the largest KV value (Workers KV's 25 MiB).
const MaxKVValue = 25 << 20

// PutReader stores what r yields under key, as Put; past MaxKVValue it
// stops reading and fails as Workers does, storing nothing.
func (kv KV) PutReader(ctx context.Context, key string, r io.Reader, opts *KVPutOptions) error {
	var buf []byte
	const chunk = 1 << 20
	for {
		if cap(buf)-len(buf) < chunk {
			buf = append(buf, make([]byte, chunk)...)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf) : len(buf)+chunk])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxKVValue {
			return &Error{Op: "kv_put", Code: CodeTooLarge, Message: fmt.Sprintf("KV PUT failed: 413 Value length of at least %d exceeds limit of %d.", len(buf), MaxKVValue)}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return kv.Put(ctx, key, buf, opts)
}

// ObjectReader is an object's info and its body, read from the store as
// it is consumed. Close it when done (the host also closes it when the
// request ends).
type ObjectReader struct {
	Info   ObjectInfo
	handle int32
	done   bool
}

// Open returns an object's info and a reader of its body (or of the range
// opts selects), or ErrNotFound; opts may be nil. Unlike Get, the body is
// never held whole: use it for objects of any size.
func (b Bucket) Open(ctx context.Context, key string, opts *ObjectGetOptions) (*ObjectReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	res, err := result("object_open", func(p unsafe.Pointer, c uint32) int32 { return hObjectOpen(b.Binding, key, o, p, c) })
	if err != nil {
		return nil, err
	}
	var info struct {
		ObjectInfo
		Stream int32 `json:"stream"`
	}
	if err := json.Unmarshal(res, &info); err != nil || info.Stream <= 0 {
		if info.Stream > 0 {
			hStreamClose(info.Stream)
		}
		return nil, &Error{Op: "object_open", Code: CodeFailed, Message: "object_open: malformed result"}
	}
	return &ObjectReader{Info: info.ObjectInfo, handle: info.Stream}, nil
}

// Read reads the next bytes of the body.
func (r *ObjectReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := hStreamRead(r.handle, bytesPtr(p), uint32(len(p)))
	if n < 0 {
		return 0, callError("stream_read", n)
	}
	if n == 0 {
		r.done = true
		hStreamClose(r.handle)
		return 0, io.EOF
	}
	return int(n), nil
}

// Close stops reading the body.
func (r *ObjectReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	return status("stream_close", hStreamClose(r.handle))
}

// ObjectWriter stores an object as it is written: Write the body, then
// Finish; Abort (or an error) stores nothing.
type ObjectWriter struct {
	handle int32
	done   bool
}

// PutStream starts a put whose body is written to the returned writer;
// opts may be nil. The object is stored as it is written, so a body of
// any size passes through the guest in small pieces.
func (b Bucket) PutStream(ctx context.Context, key string, opts *ObjectPutOptions) (*ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := ""
	if opts != nil {
		o = encodeOpts(opts)
	}
	h := hObjectPutStream(b.Binding, key, o)
	if h < 0 {
		return nil, callError("object_put_stream", h)
	}
	return &ObjectWriter{handle: h}, nil
}

// Write sends p to the store.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, &Error{Op: "stream_write", Code: CodeState, Message: "stream_write: the put has ended"}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if rc := hStreamWrite(w.handle, bytesPtr(p), uint32(len(p))); rc < 0 {
		w.done = true
		return 0, callError("stream_write", rc)
	}
	return len(p), nil
}

// Finish ends the body and returns the stored object's info.
func (w *ObjectWriter) Finish() (*ObjectInfo, error) {
	if w.done {
		return nil, &Error{Op: "stream_finish", Code: CodeState, Message: "stream_finish: the put has ended"}
	}
	w.done = true
	res, err := result("stream_finish", func(p unsafe.Pointer, c uint32) int32 { return hStreamFinish(w.handle, p, c) })
	if err != nil {
		return nil, err
	}
	return decodeInfo("stream_finish", res)
}

// Abort ends the put without storing anything.
func (w *ObjectWriter) Abort() {
	if !w.done {
		w.done = true
		hStreamClose(w.handle)
	}
}

// PutReader stores what r yields under key, streaming it; opts may be nil.
func (b Bucket) PutReader(ctx context.Context, key string, r io.Reader, opts *ObjectPutOptions) (*ObjectInfo, error) {
	w, err := b.PutStream(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyBuffer(w, r, make([]byte, 64<<10)); err != nil {
		w.Abort()
		return nil, err
	}
	return w.Finish()
}

// WriteHeaders sets the object's stored HTTP headers on h: Content-Type,
// the HTTPMetadata fields and Expires (R2's writeHttpMetadata).
func (i *ObjectInfo) WriteHeaders(h http.Header) {
	if i.ContentType != "" {
		h.Set("Content-Type", i.ContentType)
	}
	m := i.HTTPMetadata
	if m == nil {
		return
	}
	for _, f := range []struct{ name, v string }{
		{"Content-Language", m.ContentLanguage}, {"Content-Disposition", m.ContentDisposition},
		{"Content-Encoding", m.ContentEncoding}, {"Cache-Control", m.CacheControl},
	} {
		if f.v != "" {
			h.Set(f.name, f.v)
		}
	}
	if !m.CacheExpiry.IsZero() {
		h.Set("Expires", m.CacheExpiry.UTC().Format(http.TimeFormat))
	}
}
