// Package objects owns object storage buckets ([[buckets]], wrangler's
// [[r2_buckets]]): R2 semantics on JetStream. An object is a record in the
// node's object record stream (KV_wisp-objects), holding its metadata in a
// header, whose body is a blob (package blob): listing, ordering and
// prefixes come from the records, contents stream through the blob store
// chunk by chunk. A bucket without bucket_name is private to its service
// and binding (p.<service>.<BINDING>); one with bucket_name is shared by
// every service that names it (n.<name>).
package objects

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/binding/keyspace"
	"github.com/wisp-run/wisp/internal/store"
)

// RecordBucket is the record stream's KV bucket name.
const RecordBucket = "wisp-objects"

// R2's documented limits.
const (
	MaxKeyBytes      = 1024
	MaxObjectBytes   = 5<<30 - 5<<20 // 5 GiB less 5 MiB, as R2's single put
	MaxMetadataBytes = 2048
	MaxListLimit     = 1000
	MaxDeleteKeys    = 1000
)

const hdrObject = "Wisp-Object"

// Error is an R2 call refused, worded as R2 words it
// ("put: The specified object name is not valid. (10020)").
type Error struct {
	Op     string // get, put, head, delete, list
	Status int
	Code   int // R2's v4 error code
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%d)", e.Op, e.Msg, e.Code) }

// R2's errors, by what went wrong.
func invalidName(op string) *Error {
	return &Error{op, 400, 10020, "The specified object name is not valid."}
}
func metadataTooLarge(op string) *Error {
	return &Error{op, 400, 10012, "Your metadata headers exceed the maximum allowed metadata size."}
}
func entityTooLarge(op string) *Error {
	return &Error{op, 400, 100100, "Your proposed upload exceeds the maximum allowed object size."}
}
func invalidMaxKeys(op string) *Error {
	return &Error{op, 400, 10022, "MaxKeys params must be positive integer <= 1000."}
}
func invalidRange(op string) *Error {
	return &Error{op, 416, 10039, "The requested range is not satisfiable"}
}
func badDigest(op, want, got string) *Error {
	return &Error{op, 400, 10037, fmt.Sprintf("The MD5 checksum you specified did not match what we received.\nYou provided a MD5 checksum with value: %s\nActual MD5 was: %s", want, got)}
}
func invalidArgument(op, msg string) *Error { return &Error{op, 400, 10029, msg} }

// Store is a node's object storage.
type Store struct {
	recs  *keyspace.Stream
	blobs *blob.Store
	now   func() time.Time
}

// Open opens the node's object storage on st.
func Open(ctx context.Context, st *store.Store, blobs *blob.Store) (*Store, error) {
	recs, err := keyspace.Open(ctx, st, RecordBucket)
	if err != nil {
		return nil, err
	}
	return &Store{recs: recs, blobs: blobs, now: time.Now}, nil
}

// Records is the record stream, for blob sweeping.
func (s *Store) Records() *keyspace.Stream { return s.recs }

// Private is the bucket a service gets for a binding without bucket_name.
func (s *Store) Private(service, bindingName string) (*Bucket, error) {
	return s.bucket("p", service, bindingName)
}

// Named is the bucket shared by every binding naming it.
func (s *Store) Named(name string) (*Bucket, error) { return s.bucket("n", name) }

func (s *Store) bucket(tokens ...string) (*Bucket, error) {
	sp, err := s.recs.Space(tokens...)
	if err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	return &Bucket{s: s, sp: sp}, nil
}

// Bucket is one object storage bucket.
type Bucket struct {
	s  *Store
	sp *keyspace.Space
}

var _ binding.Bucket = (*Bucket)(nil)

// meta is what an object's record keeps, in its header.
type meta struct {
	Blob           blob.Info            `json:"blob"`
	Uploaded       int64                `json:"uploaded"` // unix milliseconds
	ContentType    string               `json:"contentType,omitempty"`
	CustomMetadata map[string]string    `json:"customMetadata,omitempty"`
	HTTP           binding.HTTPMetadata `json:"http"`
}

func (m *meta) info(key string) binding.ObjectInfo {
	return binding.ObjectInfo{
		Key: key, Size: m.Blob.Size, ETag: m.Blob.MD5, Version: m.Blob.ID,
		Uploaded: time.UnixMilli(m.Uploaded).UTC(), ContentType: m.ContentType,
		CustomMetadata: m.CustomMetadata, HTTPMetadata: m.HTTP,
	}
}

func decodeMeta(h nats.Header) (*meta, error) {
	var m meta
	if err := json.Unmarshal([]byte(h.Get(hdrObject)), &m); err != nil {
		return nil, fmt.Errorf("object record: %w", err)
	}
	return &m, nil
}

// CheckKey applies R2's key rule for op.
func CheckKey(op, key string) error {
	if key == "" || len(key) > MaxKeyBytes || !utf8.ValidString(key) {
		return invalidName(op)
	}
	return nil
}

// metadataSize counts custom metadata as R2 does: a string costs its
// length, doubled if any character is outside Latin-1.
func metadataSize(md map[string]string) int {
	n := 0
	for k, v := range md {
		n += serialisedLen(k) + serialisedLen(v)
	}
	return n
}

func serialisedLen(s string) int {
	units := 0
	wide := false
	for _, r := range s {
		units++
		if r >= 0x10000 {
			units++
		}
		if r >= 256 {
			wide = true
		}
	}
	if wide {
		return 2 * units
	}
	return units
}

// Put stores body (read to the end, bounded by MaxObjectBytes) as key.
func (b *Bucket) Put(ctx context.Context, key string, body io.Reader, o binding.ObjectPutOptions) (*binding.ObjectInfo, error) {
	if err := CheckKey("put", key); err != nil {
		return nil, err
	}
	if metadataSize(o.CustomMetadata) > MaxMetadataBytes {
		return nil, metadataTooLarge("put")
	}
	if o.MD5 != "" {
		if d, err := hex.DecodeString(o.MD5); err != nil || len(d) != 16 {
			return nil, invalidArgument("put", fmt.Sprintf("md5 %q is not 16 bytes of hex", o.MD5))
		}
	}
	if body == nil {
		body = eofReader{}
	}
	owner := b.sp.Stream().Name() + " " + b.sp.Subject(key)
	info, err := b.s.blobs.Put(ctx, owner, body, MaxObjectBytes)
	var tl *blob.TooLargeError
	if errors.As(err, &tl) {
		return nil, entityTooLarge("put")
	}
	if err != nil {
		return nil, fmt.Errorf("put: %w", err)
	}
	if o.MD5 != "" && o.MD5 != info.MD5 {
		_ = b.s.blobs.Delete(ctx, info.ID)
		return nil, badDigest("put", o.MD5, info.MD5)
	}
	m := &meta{Blob: *info, Uploaded: b.s.now().UnixMilli(), ContentType: o.ContentType, CustomMetadata: o.CustomMetadata, HTTP: o.HTTPMetadata}
	enc, _ := json.Marshal(m)
	h := nats.Header{hdrObject: {string(enc)}}
	// Point the record at the new blob, then drop the blob it replaced.
	// The compare-and-set makes concurrent puts each drop exactly the blob
	// they replaced, so no blob outlives its record (but for crashes,
	// which the sweeper cleans up).
	for {
		old, err := b.sp.Get(ctx, key)
		if err != nil {
			_ = b.s.blobs.Delete(ctx, info.ID)
			return nil, fmt.Errorf("put: %w", err)
		}
		var prev uint64
		if old != nil {
			prev = old.Seq
		}
		_, err = b.sp.Put(ctx, key, h, nil, keyspace.PutOptions{IfSeq: &prev})
		if errors.Is(err, keyspace.ErrConflict) {
			continue
		}
		if err != nil {
			_ = b.s.blobs.Delete(ctx, info.ID)
			return nil, fmt.Errorf("put: %w", err)
		}
		if old != nil {
			if om, err := decodeMeta(old.Header); err == nil {
				_ = b.s.blobs.Delete(ctx, om.Blob.ID)
			}
		}
		out := m.info(key)
		return &out, nil
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Head returns key's info, or nil when there is no such object.
func (b *Bucket) Head(ctx context.Context, key string) (*binding.ObjectInfo, error) {
	if err := CheckKey("head", key); err != nil {
		return nil, err
	}
	r, err := b.sp.Get(ctx, key)
	if err != nil || r == nil {
		return nil, err
	}
	m, err := decodeMeta(r.Header)
	if err != nil {
		return nil, err
	}
	info := m.info(key)
	return &info, nil
}

// Get returns the object with a stream of its body (or of the range
// asked for), or nil when there is no such object. ctx bounds the
// reading of the body too.
func (b *Bucket) Get(ctx context.Context, key string, o binding.ObjectGetOptions) (*binding.Object, error) {
	if err := CheckKey("get", key); err != nil {
		return nil, err
	}
	r, err := b.sp.Get(ctx, key)
	if err != nil || r == nil {
		return nil, err
	}
	m, err := decodeMeta(r.Header)
	if err != nil {
		return nil, err
	}
	size := m.Blob.Size
	off, n := o.RangeOffset, o.RangeLength
	switch {
	case o.RangeSuffix < 0 || off < 0 || n < 0:
		return nil, invalidRange("get")
	case o.RangeSuffix > 0:
		n = min(o.RangeSuffix, size)
		off = size - n
	case off > size:
		return nil, invalidRange("get")
	case n == 0 || off+n > size:
		n = size - off
	}
	body, err := b.s.blobs.Open(ctx, m.Blob, off, n)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return &binding.Object{ObjectInfo: m.info(key), Body: body, RangeOffset: off, RangeLength: n}, nil
}

// Delete removes up to 1000 objects; absent keys are not an error.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	if len(keys) > MaxDeleteKeys {
		return invalidArgument("delete", fmt.Sprintf("You can delete at most %d keys at once (got %d).", MaxDeleteKeys, len(keys)))
	}
	for _, k := range keys {
		if err := CheckKey("delete", k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		r, err := b.sp.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if r == nil {
			continue
		}
		if err := b.sp.Delete(ctx, k, r.Seq); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if m, err := decodeMeta(r.Header); err == nil {
			_ = b.s.blobs.Delete(ctx, m.Blob.ID) // else the sweeper will
		}
	}
	return nil
}

// List returns one page of objects in UTF-8 byte order, with keys that
// share a prefix up to Delimiter rolled up into DelimitedPrefixes (which
// count toward the limit, as on R2).
func (b *Bucket) List(ctx context.Context, o binding.ObjectListOptions) (*binding.ObjectList, error) {
	if o.Limit < 0 || o.Limit > MaxListLimit {
		return nil, invalidMaxKeys("list")
	}
	po := keyspace.PageOptions{Prefix: o.Prefix, Limit: o.Limit, Delimiter: o.Delimiter}
	if po.Limit == 0 {
		po.Limit = MaxListLimit
	}
	if len(o.Prefix) > MaxKeyBytes || len(o.StartAfter) > MaxKeyBytes {
		return nil, invalidName("list")
	}
	po.After = o.StartAfter
	if o.Cursor != "" {
		after, group, err := keyspace.ParseCursor(o.Cursor)
		if err != nil {
			return nil, invalidArgument("list", fmt.Sprintf("Invalid cursor %q", o.Cursor))
		}
		if after > po.After {
			po.After, po.AfterGroup = after, group
		}
	}
	p, err := b.sp.Page(ctx, po)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	out := &binding.ObjectList{Objects: []binding.ObjectInfo{}, DelimitedPrefixes: []string{}, Truncated: p.More}
	for _, it := range p.Items {
		if it.Group {
			out.DelimitedPrefixes = append(out.DelimitedPrefixes, it.Key)
			continue
		}
		m, err := decodeMeta(it.Entry.Header)
		if err != nil {
			return nil, err
		}
		out.Objects = append(out.Objects, m.info(it.Key))
	}
	if p.More {
		out.Cursor = keyspace.Cursor(p.Items[len(p.Items)-1])
	}
	return out, nil
}

// LiveBlob reports whether the record at subject still points at blob id.
func (s *Store) LiveBlob(ctx context.Context, subject, id string) (bool, error) {
	h, err := s.recs.Header(ctx, subject)
	if err != nil || h == nil {
		return false, err
	}
	m, err := decodeMeta(h)
	if err != nil {
		return false, nil
	}
	return m.Blob.ID == id, nil
}

// HTTPStatus is the status R2 answers with.
func (e *Error) HTTPStatus() int { return e.Status }
