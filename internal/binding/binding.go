package binding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Env is everything one version's code can reach, keyed by binding name.
// A nil map means none of that kind. Runtimes expose each entry to guest
// code: in JS as env.NAME with the Cloudflare Workers signatures, in wasm
// through the wisp ABI.
type Env struct {
	Vars     map[string]any    // [vars], as decoded from TOML
	Secrets  map[string]string // decrypted secrets, never logged
	KV       map[string]KV
	Buckets  map[string]Bucket
	Services map[string]Service
	Queues   map[string]Producer
	// Fetch performs outbound HTTP for the service, enforcing its
	// [outbound] allowed_hosts; nil refuses every outbound request.
	Fetch Fetcher
}

// KV is one KV namespace (Workers KV semantics).
type KV interface {
	// Get returns the entry, or nil (and no error) when the key is absent
	// or expired.
	Get(ctx context.Context, key string) (*KVEntry, error)
	Put(ctx context.Context, key string, value []byte, opts KVPutOptions) error
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, opts KVListOptions) (*KVList, error)
}

// KVEntry is a stored value with its metadata.
type KVEntry struct {
	Value      []byte
	Metadata   json.RawMessage // nil when none
	Expiration int64           // unix seconds; 0 when it does not expire
}

// KVPutOptions are put()'s options.
type KVPutOptions struct {
	Expiration    int64 // absolute, unix seconds
	ExpirationTTL int64 // seconds from now
	Metadata      json.RawMessage
}

// KVListOptions are list()'s options.
type KVListOptions struct {
	Prefix string
	Limit  int // 1..1000; 0 means 1000
	Cursor string
}

// KVList is one page of keys, in UTF-8 byte order.
type KVList struct {
	Keys     []KVKey
	Complete bool
	Cursor   string // for the next page when !Complete
}

// KVKey is one listed key.
type KVKey struct {
	Name       string
	Expiration int64
	Metadata   json.RawMessage
}

// Bucket is one object storage bucket (R2 semantics).
type Bucket interface {
	Put(ctx context.Context, key string, body io.Reader, opts ObjectPutOptions) (*ObjectInfo, error)
	// Get returns the object (its Body must be closed), or nil when absent.
	Get(ctx context.Context, key string, opts ObjectGetOptions) (*Object, error)
	// Head returns the object's info, or nil when absent.
	Head(ctx context.Context, key string) (*ObjectInfo, error)
	Delete(ctx context.Context, keys ...string) error
	List(ctx context.Context, opts ObjectListOptions) (*ObjectList, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key            string
	Size           int64
	ETag           string // hex MD5 of the body, as R2's for single uploads
	Version        string // changes with every put
	Uploaded       time.Time
	ContentType    string
	CustomMetadata map[string]string
	HTTPMetadata
}

// HTTPMetadata is R2's httpMetadata other than the content type: headers
// stored with an object and given back with it.
type HTTPMetadata struct {
	ContentLanguage    string    `json:"contentLanguage,omitempty"`
	ContentDisposition string    `json:"contentDisposition,omitempty"`
	ContentEncoding    string    `json:"contentEncoding,omitempty"`
	CacheControl       string    `json:"cacheControl,omitempty"`
	CacheExpiry        time.Time `json:"cacheExpiry,omitzero"`
}

// Object is an object's info and a stream of its body.
type Object struct {
	ObjectInfo
	Body io.ReadCloser
	// RangeOffset and RangeLength say which bytes Body holds (the whole
	// object unless a range was asked for).
	RangeOffset, RangeLength int64
}

// ObjectPutOptions are put()'s options.
type ObjectPutOptions struct {
	ContentType    string
	CustomMetadata map[string]string
	HTTPMetadata
	// MD5, when set (hex), must match the body's digest or nothing is
	// stored.
	MD5 string
}

// ObjectGetOptions are get()'s options.
type ObjectGetOptions struct {
	RangeOffset, RangeLength int64 // a byte range; RangeLength 0 means to the end
	RangeSuffix              int64 // when > 0: the last RangeSuffix bytes instead
}

// ObjectListOptions are list()'s options.
type ObjectListOptions struct {
	Prefix, Cursor, Delimiter string
	StartAfter                string // only keys after this one
	Limit                     int    // 1..1000; 0 means 1000
}

// ObjectList is one page of objects.
type ObjectList struct {
	Objects           []ObjectInfo
	DelimitedPrefixes []string
	Truncated         bool
	Cursor            string
}

// Service calls another service in-process, through its own pool and
// limits. The callee sees an ordinary request.
type Service interface {
	Fetch(ctx context.Context, req *http.Request) (*http.Response, error)
}

// Producer sends messages to a queue.
type Producer interface {
	Send(ctx context.Context, msgs []Message) error
}

// Message is one queue message as produced.
type Message struct {
	Body         []byte
	ContentType  string // "json", "text", "bytes" or "v8" (Workers content types)
	DelaySeconds int
}

// Fetcher performs outbound HTTP requests under the service's policy.
// Do makes one request (following redirects, each checked against the
// policy and counted as a subrequest, unless ctx says ManualRedirects)
// and returns the response with its body streaming; the caller closes
// it. ctx must come from StartInvocation.
type Fetcher interface {
	Do(ctx context.Context, req *http.Request) (*http.Response, error)
}

// DefaultMaxSubrequests bounds the outbound fetches and service-binding
// calls one invocation may make (Workers' paid-plan figure).
const DefaultMaxSubrequests = 1000

type budgetKey struct{}

type budget struct {
	max  int64
	used atomic.Int64
}

// StartInvocation returns ctx carrying a fresh budget of max subrequests
// for one invocation of a service; Subrequest draws on it. dispatch.Pool
// calls it for every HTTP invocation (from the gateway, the admin API or
// a service binding); other triggers (scheduled, queue) must call it
// before running guest code.
func StartInvocation(ctx context.Context, max int) context.Context {
	return context.WithValue(ctx, budgetKey{}, &budget{max: int64(max)})
}

// ErrNoInvocation means a subrequest was made with a context that did not
// come from StartInvocation: a runtime bug, refused rather than unbounded.
var ErrNoInvocation = errors.New("subrequest outside an invocation: the runtime did not call binding.StartInvocation")

// SubrequestLimitError is returned once an invocation has used its budget.
type SubrequestLimitError struct{ Max int64 }

func (e *SubrequestLimitError) Error() string {
	return fmt.Sprintf("Too many subrequests: this invocation already made %d (outbound fetches, redirects followed and service-binding calls), the most allowed", e.Max)
}

// Subrequest takes one subrequest from ctx's invocation budget.
func Subrequest(ctx context.Context) error {
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return ErrNoInvocation
	}
	if b.used.Add(1) > b.max {
		return &SubrequestLimitError{Max: b.max}
	}
	return nil
}

type manualRedirectKey struct{}

// ManualRedirects marks ctx so that Fetcher.Do returns a redirect
// response as it is instead of following it (fetch's redirect: "manual"
// and "error" modes).
func ManualRedirects(ctx context.Context) context.Context {
	return context.WithValue(ctx, manualRedirectKey{}, true)
}

// FollowsRedirects reports whether Fetcher.Do should follow redirects for
// ctx.
func FollowsRedirects(ctx context.Context) bool {
	manual, _ := ctx.Value(manualRedirectKey{}).(bool)
	return !manual
}
