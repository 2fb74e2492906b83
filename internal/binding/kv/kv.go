// Package kv owns KV namespaces ([[kv_namespaces]]): Workers KV semantics
// on JetStream. Every namespace of the node lives in one record stream
// (KV_wisp-kv), each under its own prefix: a private namespace (no id in
// the manifest) under p.<service>.<BINDING>, a named one (id = "catalog")
// under n.<id>, shared by every service that names it. Values over ~1 MiB
// are stored as blobs and the record points at them. Cloudflare's limits
// and error messages apply (see Error).
package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/binding/keyspace"
	"github.com/wisp-run/wisp/internal/store"
)

// RecordBucket is the record stream's KV bucket name.
const RecordBucket = "wisp-kv"

// Cloudflare's documented Workers KV limits.
const (
	MaxKeyBytes      = 512
	MaxValueBytes    = 25 << 20
	MaxMetadataBytes = 1024
	MinTTLSeconds    = 60
	MinCacheTTL      = 30
	MaxListLimit     = 1000
	MaxBulkGetKeys   = 100
)

// Record headers.
const (
	hdrMeta = "Wisp-Meta" // the metadata's JSON
	hdrExp  = "Wisp-Exp"  // expiration, unix seconds
	hdrBlob = "Wisp-Blob" // blob.Info JSON when the value is a blob
)

// Error is a KV call refused for its arguments, worded as Workers words
// it ("KV PUT failed: 400 Invalid expiration_ttl of 5. ...").
type Error struct {
	Op     string // GET, PUT, DELETE, LIST
	Status int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("KV %s failed: %d %s", e.Op, e.Status, e.Msg) }

func errorf(op string, status int, format string, args ...any) *Error {
	return &Error{Op: op, Status: status, Msg: fmt.Sprintf(format, args...)}
}

// Store is a node's KV: the record stream and the blob store.
type Store struct {
	recs      *keyspace.Stream
	blobs     *blob.Store
	now       func() time.Time
	inlineMax int
}

// Config tunes a Store.
type Config struct {
	// Now is the clock that decides expiry (tests move it). Default
	// time.Now. The server still removes expired records on its own clock.
	Now func() time.Time
}

// Open opens the node's KV on st, keeping large values in blobs.
func Open(ctx context.Context, st *store.Store, blobs *blob.Store, cfg Config) (*Store, error) {
	recs, err := keyspace.Open(ctx, st, RecordBucket)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Values travel inline up to ~1 MiB (less if the server's max_payload
	// is smaller), leaving room for headers and metadata.
	inline := int(min(int64(1<<20), st.NC.MaxPayload())) - 64<<10
	return &Store{recs: recs, blobs: blobs, now: cfg.Now, inlineMax: inline}, nil
}

// Records is the record stream, for blob sweeping.
func (s *Store) Records() *keyspace.Stream { return s.recs }

// Private is the namespace a service gets for a binding without an id.
func (s *Store) Private(service, bindingName string) (*Namespace, error) {
	return s.namespace("p", service, bindingName)
}

// Named is the namespace shared by every binding that gives this id.
func (s *Store) Named(id string) (*Namespace, error) { return s.namespace("n", id) }

func (s *Store) namespace(tokens ...string) (*Namespace, error) {
	sp, err := s.recs.Space(tokens...)
	if err != nil {
		return nil, fmt.Errorf("KV namespace: %w", err)
	}
	return &Namespace{s: s, sp: sp}, nil
}

// Namespace is one KV namespace.
type Namespace struct {
	s  *Store
	sp *keyspace.Space
}

var _ binding.KV = (*Namespace)(nil)

// CheckKey applies Workers' key rules for op.
func CheckKey(op, key string) error {
	switch {
	case key == "":
		return errorf(op, 400, "Key names must not be empty")
	case key == "." || key == "..":
		return errorf(op, 400, "Illegal key name %q. Please use a different name.", key)
	case len(key) > MaxKeyBytes:
		return errorf(op, 414, "UTF-8 encoded length of %d exceeds key length limit of %d.", len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		return errorf(op, 400, "Key names must be valid UTF-8")
	}
	return nil
}

// Get returns key's entry, or nil when it is absent or expired.
func (n *Namespace) Get(ctx context.Context, key string) (*binding.KVEntry, error) {
	if err := CheckKey("GET", key); err != nil {
		return nil, err
	}
	r, err := n.sp.Get(ctx, key)
	if err != nil || r == nil {
		return nil, err
	}
	exp := expiration(r.Header)
	if n.expired(exp) {
		return nil, nil
	}
	e := &binding.KVEntry{Value: r.Body, Expiration: exp}
	if m := r.Header.Get(hdrMeta); m != "" {
		e.Metadata = json.RawMessage(m)
	}
	if bh := r.Header.Get(hdrBlob); bh != "" {
		if e.Value, err = n.readBlob(ctx, bh); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (n *Namespace) readBlob(ctx context.Context, hdr string) ([]byte, error) {
	var info blob.Info
	if err := json.Unmarshal([]byte(hdr), &info); err != nil {
		return nil, fmt.Errorf("read KV value: bad blob reference: %w", err)
	}
	rc, err := n.s.blobs.Open(ctx, info, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("read KV value: %w", err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(info.Size))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, fmt.Errorf("read KV value: %w", err)
	}
	return buf.Bytes(), nil
}

func expiration(h nats.Header) int64 {
	v, _ := strconv.ParseInt(h.Get(hdrExp), 10, 64)
	return v
}

func (n *Namespace) expired(exp int64) bool {
	return exp != 0 && exp <= n.s.now().Unix()
}

// CheckPut validates put()'s arguments as Workers does and returns the
// absolute expiration (0 for none).
func CheckPut(now time.Time, key string, size int, o binding.KVPutOptions) (int64, error) {
	if err := CheckKey("PUT", key); err != nil {
		return 0, err
	}
	var exp int64
	switch t := now.Unix(); {
	case o.ExpirationTTL < 0:
		return 0, errorf("PUT", 400, "Invalid expiration_ttl of %d. Please specify integer greater than 0.", o.ExpirationTTL)
	case o.ExpirationTTL > 0 && o.ExpirationTTL < MinTTLSeconds:
		return 0, errorf("PUT", 400, "Invalid expiration_ttl of %d. Expiration TTL must be at least %d.", o.ExpirationTTL, MinTTLSeconds)
	case o.ExpirationTTL > 0:
		exp = t + o.ExpirationTTL
	case o.Expiration < 0 || (o.Expiration > 0 && o.Expiration <= t):
		return 0, errorf("PUT", 400, "Invalid expiration of %d. Please specify integer greater than the current number of seconds since the UNIX epoch.", o.Expiration)
	case o.Expiration > 0 && o.Expiration < t+MinTTLSeconds:
		return 0, errorf("PUT", 400, "Invalid expiration of %d. Expiration times must be at least %d seconds in the future.", o.Expiration, MinTTLSeconds)
	case o.Expiration > 0:
		exp = o.Expiration
	}
	if len(o.Metadata) > MaxMetadataBytes {
		return 0, errorf("PUT", 413, "Metadata length of %d exceeds limit of %d.", len(o.Metadata), MaxMetadataBytes)
	}
	if o.Metadata != nil && !json.Valid(o.Metadata) {
		return 0, errorf("PUT", 400, "Metadata must be serialized JSON")
	}
	if size > MaxValueBytes {
		return 0, errorf("PUT", 413, "Value length of %d exceeds limit of %d.", size, MaxValueBytes)
	}
	return exp, nil
}

// Put stores value under key.
func (n *Namespace) Put(ctx context.Context, key string, value []byte, o binding.KVPutOptions) error {
	now := n.s.now()
	exp, err := CheckPut(now, key, len(value), o)
	if err != nil {
		return err
	}
	h := nats.Header{}
	var ttl time.Duration
	if exp != 0 {
		h.Set(hdrExp, strconv.FormatInt(exp, 10))
		ttl = time.Duration(exp-now.Unix()) * time.Second
	}
	if o.Metadata != nil {
		var compact bytes.Buffer
		if err := json.Compact(&compact, o.Metadata); err != nil {
			return errorf("PUT", 400, "Metadata must be serialized JSON")
		}
		h.Set(hdrMeta, compact.String())
	}
	body := value
	if len(value) > n.s.inlineMax {
		owner := n.sp.Stream().Name() + " " + n.sp.Subject(key)
		info, err := n.s.blobs.Put(ctx, owner, bytes.NewReader(value), MaxValueBytes)
		if err != nil {
			return fmt.Errorf("store KV value: %w", err)
		}
		ref, _ := json.Marshal(info)
		h.Set(hdrBlob, string(ref))
		body = nil
	}
	if _, err := n.sp.Put(ctx, key, h, body, keyspace.PutOptions{TTL: ttl}); err != nil {
		return fmt.Errorf("store KV value: %w", err)
	}
	return nil
}

// Delete removes key; deleting an absent key is not an error.
func (n *Namespace) Delete(ctx context.Context, key string) error {
	if err := CheckKey("DELETE", key); err != nil {
		return err
	}
	r, err := n.sp.Get(ctx, key)
	if err != nil || r == nil {
		return err
	}
	if err := n.sp.Delete(ctx, key, r.Seq); err != nil {
		return err
	}
	if bh := r.Header.Get(hdrBlob); bh != "" {
		var info blob.Info
		if json.Unmarshal([]byte(bh), &info) == nil {
			// A failure leaves an orphan for the sweeper, not a wrong answer.
			_ = n.s.blobs.Delete(ctx, info.ID)
		}
	}
	return nil
}

// CheckList validates list()'s options as Workers does; a zero limit
// means the default of 1000.
func CheckList(o binding.KVListOptions) error {
	switch {
	case o.Limit < 0:
		return errorf("LIST", 400, "Invalid key_count_limit of %d. Please specify an integer greater than 0.", o.Limit)
	case o.Limit > MaxListLimit:
		return errorf("LIST", 400, "Invalid key_count_limit of %d. Please specify an integer less than %d.", o.Limit, MaxListLimit)
	case len(o.Prefix) > MaxKeyBytes:
		return errorf("LIST", 414, "UTF-8 encoded length of %d exceeds key length limit of %d.", len(o.Prefix), MaxKeyBytes)
	}
	return nil
}

// List returns one page of keys in UTF-8 byte order.
func (n *Namespace) List(ctx context.Context, o binding.KVListOptions) (*binding.KVList, error) {
	if err := CheckList(o); err != nil {
		return nil, err
	}
	po := keyspace.PageOptions{Prefix: o.Prefix, Limit: o.Limit}
	if po.Limit == 0 {
		po.Limit = MaxListLimit
	}
	if o.Cursor != "" {
		after, group, err := keyspace.ParseCursor(o.Cursor)
		if err != nil || group {
			return nil, errorf("LIST", 400, "Invalid cursor %q", o.Cursor)
		}
		po.After = after
	}
	po.Keep = func(e keyspace.Entry) bool { return !n.expired(expiration(e.Header)) }
	p, err := n.sp.Page(ctx, po)
	if err != nil {
		return nil, fmt.Errorf("list KV keys: %w", err)
	}
	out := &binding.KVList{Keys: make([]binding.KVKey, 0, len(p.Items)), Complete: !p.More}
	for _, it := range p.Items {
		k := binding.KVKey{Name: it.Key, Expiration: expiration(it.Entry.Header)}
		if m := it.Entry.Header.Get(hdrMeta); m != "" {
			k.Metadata = json.RawMessage(m)
		}
		out.Keys = append(out.Keys, k)
	}
	if p.More {
		out.Cursor = keyspace.Cursor(p.Items[len(p.Items)-1])
	}
	return out, nil
}

// LiveBlob reports whether the record at subject (in this store's record
// stream) still points at blob id; the blob sweeper asks it.
func (s *Store) LiveBlob(ctx context.Context, subject, id string) (bool, error) {
	return liveBlob(ctx, s.recs, subject, id)
}

func liveBlob(ctx context.Context, recs *keyspace.Stream, subject, id string) (bool, error) {
	h, err := recs.Header(ctx, subject)
	if err != nil || h == nil {
		return false, err
	}
	var info blob.Info
	if json.Unmarshal([]byte(h.Get(hdrBlob)), &info) != nil {
		return false, nil
	}
	return info.ID == id, nil
}

// HTTPStatus is the status Workers' KV API answers with.
func (e *Error) HTTPStatus() int { return e.Status }
