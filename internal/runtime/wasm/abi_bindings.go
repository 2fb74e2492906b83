package wasm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/binding"
)

// Host functions that reach the service's bindings (docs/abi.md,
// "Bindings"). Options and structured results are JSON; values and
// bodies are raw bytes.

func (r *reactor) varGet(m api.Module, p []uint32) int32 {
	name := str(m, p[0], p[1], "var name")
	view(m, p[2], p[3], "result buffer")
	v, ok := r.mod.spec.Env.Vars[name]
	if !ok {
		return codeAbsent
	}
	if s, ok := v.(string); ok {
		return r.give(m, []byte(s), p[2], p[3])
	}
	b, err := json.Marshal(v)
	if err != nil {
		return r.fail(codeFailed, "var %s: %v", name, err)
	}
	return r.give(m, b, p[2], p[3])
}

func (r *reactor) secretGet(m api.Module, p []uint32) int32 {
	name := str(m, p[0], p[1], "secret name")
	view(m, p[2], p[3], "result buffer")
	v, ok := r.mod.spec.Env.Secrets[name]
	if !ok {
		return codeAbsent
	}
	return r.give(m, []byte(v), p[2], p[3])
}

// decodeOpts reads optional JSON options; an empty span means none.
func decodeOpts(m api.Module, ptr, n uint32, dst any) error {
	b := view(m, ptr, n, "options")
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("options: %v", err)
	}
	return nil
}

func (r *reactor) kv(m api.Module, ptr, n uint32) (binding.KV, string) {
	name := str(m, ptr, n, "binding name")
	return r.mod.spec.Env.KV[name], name
}

func (r *reactor) kvGet(m api.Module, p []uint32) int32 {
	kv, name := r.kv(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	view(m, p[4], p[5], "result buffer")
	if kv == nil {
		return r.fail(codeNoBinding, "kv_get: no KV namespace is bound as %q", name)
	}
	e, err := kv.Get(r.ctx, key)
	if err != nil {
		return r.fail(codeFailed, "kv_get %s %q: %v", name, key, err)
	}
	if e == nil {
		return codeAbsent
	}
	return r.give(m, e.Value, p[4], p[5])
}

type kvPutOpts struct {
	Expiration    int64           `json:"expiration"`
	ExpirationTTL int64           `json:"expiration_ttl"`
	Metadata      json.RawMessage `json:"metadata"`
}

func (r *reactor) kvPut(m api.Module, p []uint32) int32 {
	kv, name := r.kv(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	value := bytes.Clone(view(m, p[4], p[5], "value"))
	var o kvPutOpts
	if err := decodeOpts(m, p[6], p[7], &o); err != nil {
		return r.fail(codeBadInput, "kv_put: %v", err)
	}
	if kv == nil {
		return r.fail(codeNoBinding, "kv_put: no KV namespace is bound as %q", name)
	}
	err := kv.Put(r.ctx, key, value, binding.KVPutOptions{Expiration: o.Expiration, ExpirationTTL: o.ExpirationTTL, Metadata: o.Metadata})
	if err != nil {
		return r.fail(codeFailed, "kv_put %s %q: %v", name, key, err)
	}
	return codeOK
}

func (r *reactor) kvDelete(m api.Module, p []uint32) int32 {
	kv, name := r.kv(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	if kv == nil {
		return r.fail(codeNoBinding, "kv_delete: no KV namespace is bound as %q", name)
	}
	if err := kv.Delete(r.ctx, key); err != nil {
		return r.fail(codeFailed, "kv_delete %s %q: %v", name, key, err)
	}
	return codeOK
}

type kvListOpts struct {
	Prefix string `json:"prefix"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor"`
}

type kvKeyJSON struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

type kvListJSON struct {
	Keys         []kvKeyJSON `json:"keys"`
	ListComplete bool        `json:"list_complete"`
	Cursor       string      `json:"cursor,omitempty"`
}

func (r *reactor) kvList(m api.Module, p []uint32) int32 {
	kv, name := r.kv(m, p[0], p[1])
	var o kvListOpts
	if err := decodeOpts(m, p[2], p[3], &o); err != nil {
		return r.fail(codeBadInput, "kv_list: %v", err)
	}
	view(m, p[4], p[5], "result buffer")
	if kv == nil {
		return r.fail(codeNoBinding, "kv_list: no KV namespace is bound as %q", name)
	}
	l, err := kv.List(r.ctx, binding.KVListOptions{Prefix: o.Prefix, Limit: o.Limit, Cursor: o.Cursor})
	if err != nil {
		return r.fail(codeFailed, "kv_list %s: %v", name, err)
	}
	out := kvListJSON{Keys: make([]kvKeyJSON, 0, len(l.Keys)), ListComplete: l.Complete, Cursor: l.Cursor}
	for _, k := range l.Keys {
		out.Keys = append(out.Keys, kvKeyJSON{Name: k.Name, Expiration: k.Expiration, Metadata: k.Metadata})
	}
	return r.giveJSON(m, out, p[4], p[5])
}

func (r *reactor) giveJSON(m api.Module, v any, buf, capacity uint32) int32 {
	b, err := json.Marshal(v)
	if err != nil {
		return r.fail(codeFailed, "encode result: %v", err)
	}
	return r.give(m, b, buf, capacity)
}

func (r *reactor) bucket(m api.Module, ptr, n uint32) (binding.Bucket, string) {
	name := str(m, ptr, n, "binding name")
	return r.mod.spec.Env.Buckets[name], name
}

type objectInfoJSON struct {
	Key            string            `json:"key"`
	Size           int64             `json:"size"`
	ETag           string            `json:"etag"`
	Version        string            `json:"version,omitempty"`
	Uploaded       time.Time         `json:"uploaded"`
	ContentType    string            `json:"content_type,omitempty"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
	HTTPMetadata   *httpMetadataJSON `json:"http_metadata,omitempty"`
	Range          *rangeJSON        `json:"range,omitempty"`  // object_get, object_open
	Stream         int32             `json:"stream,omitempty"` // object_open
}

// httpMetadataJSON is R2's httpMetadata other than the content type.
type httpMetadataJSON struct {
	ContentLanguage    string    `json:"content_language,omitempty"`
	ContentDisposition string    `json:"content_disposition,omitempty"`
	ContentEncoding    string    `json:"content_encoding,omitempty"`
	CacheControl       string    `json:"cache_control,omitempty"`
	CacheExpiry        time.Time `json:"cache_expiry,omitzero"`
}

func (h *httpMetadataJSON) binding() binding.HTTPMetadata {
	if h == nil {
		return binding.HTTPMetadata{}
	}
	return binding.HTTPMetadata{ContentLanguage: h.ContentLanguage, ContentDisposition: h.ContentDisposition,
		ContentEncoding: h.ContentEncoding, CacheControl: h.CacheControl, CacheExpiry: h.CacheExpiry}
}

type rangeJSON struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

func infoJSON(i *binding.ObjectInfo) objectInfoJSON {
	out := objectInfoJSON{Key: i.Key, Size: i.Size, ETag: i.ETag, Version: i.Version, Uploaded: i.Uploaded.UTC(), ContentType: i.ContentType, CustomMetadata: i.CustomMetadata}
	if h := i.HTTPMetadata; h != (binding.HTTPMetadata{}) {
		out.HTTPMetadata = &httpMetadataJSON{ContentLanguage: h.ContentLanguage, ContentDisposition: h.ContentDisposition,
			ContentEncoding: h.ContentEncoding, CacheControl: h.CacheControl, CacheExpiry: h.CacheExpiry.UTC()}
	}
	return out
}

// objectInfo is the info JSON of a got object, with the range it holds.
func objectInfo(obj *binding.Object) objectInfoJSON {
	out := infoJSON(&obj.ObjectInfo)
	out.Range = &rangeJSON{Offset: obj.RangeOffset, Length: obj.RangeLength}
	return out
}

type objectGetOpts struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	Suffix int64 `json:"suffix"`
}

// getObject does the get of object_get and object_open (same parameters:
// binding, key, options, result buffer). With no object it returns nil
// and the code to return.
func (r *reactor) getObject(m api.Module, p []uint32, op string) (*binding.Object, int32) {
	b, name := r.bucket(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	var o objectGetOpts
	if err := decodeOpts(m, p[4], p[5], &o); err != nil {
		return nil, r.fail(codeBadInput, "%s: %v", op, err)
	}
	view(m, p[6], p[7], "result buffer")
	if b == nil {
		return nil, r.fail(codeNoBinding, "%s: no bucket is bound as %q", op, name)
	}
	if o.Offset < 0 || o.Length < 0 || o.Suffix < 0 {
		return nil, r.fail(codeBadInput, "%s: offset, length and suffix must not be negative", op)
	}
	obj, err := b.Get(r.ctx, key, binding.ObjectGetOptions{RangeOffset: o.Offset, RangeLength: o.Length, RangeSuffix: o.Suffix})
	if err != nil {
		return nil, r.fail(codeFailed, "%s %s %q: %v", op, name, key, err)
	}
	if obj == nil {
		return nil, codeAbsent
	}
	return obj, codeOK
}

func (r *reactor) objectGet(m api.Module, p []uint32) int32 {
	obj, rc := r.getObject(m, p, "object_get")
	if obj == nil {
		return rc
	}
	name, key := str(m, p[0], p[1], "binding name"), str(m, p[2], p[3], "key")
	defer obj.Body.Close()
	info, err := json.Marshal(objectInfo(obj))
	if err != nil {
		return r.fail(codeFailed, "object_get: encode info: %v", err)
	}
	out := appendList(nil, string(info))
	body, err := io.ReadAll(io.LimitReader(obj.Body, maxResultBytes+1))
	if err != nil {
		return r.fail(codeFailed, "object_get %s %q: read body: %v", name, key, err)
	}
	return r.give(m, append(out, body...), p[6], p[7])
}

func (r *reactor) objectHead(m api.Module, p []uint32) int32 {
	b, name := r.bucket(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	view(m, p[4], p[5], "result buffer")
	if b == nil {
		return r.fail(codeNoBinding, "object_head: no bucket is bound as %q", name)
	}
	info, err := b.Head(r.ctx, key)
	if err != nil {
		return r.fail(codeFailed, "object_head %s %q: %v", name, key, err)
	}
	if info == nil {
		return codeAbsent
	}
	return r.giveJSON(m, infoJSON(info), p[4], p[5])
}

type objectPutOpts struct {
	ContentType    string            `json:"content_type"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	HTTPMetadata   *httpMetadataJSON `json:"http_metadata"`
	MD5            string            `json:"md5"` // hex; the body must match it
}

func (o *objectPutOpts) binding() binding.ObjectPutOptions {
	return binding.ObjectPutOptions{ContentType: o.ContentType, CustomMetadata: o.CustomMetadata, HTTPMetadata: o.HTTPMetadata.binding(), MD5: o.MD5}
}

func (r *reactor) objectPut(m api.Module, p []uint32) int32 {
	b, name := r.bucket(m, p[0], p[1])
	key := str(m, p[2], p[3], "key")
	body := bytes.Clone(view(m, p[4], p[5], "body"))
	var o objectPutOpts
	if err := decodeOpts(m, p[6], p[7], &o); err != nil {
		return r.fail(codeBadInput, "object_put: %v", err)
	}
	view(m, p[8], p[9], "result buffer")
	if b == nil {
		return r.fail(codeNoBinding, "object_put: no bucket is bound as %q", name)
	}
	info, err := b.Put(r.ctx, key, bytes.NewReader(body), o.binding())
	if err != nil {
		return r.fail(codeFailed, "object_put %s %q: %v", name, key, err)
	}
	return r.giveJSON(m, infoJSON(info), p[8], p[9])
}

func (r *reactor) objectDelete(m api.Module, p []uint32) int32 {
	b, name := r.bucket(m, p[0], p[1])
	raw := view(m, p[2], p[3], "keys")
	keys, n, err := parseList(raw)
	if err != nil || n != len(raw) {
		return r.fail(codeBadInput, "object_delete: keys are not a string list")
	}
	if b == nil {
		return r.fail(codeNoBinding, "object_delete: no bucket is bound as %q", name)
	}
	if err := b.Delete(r.ctx, keys...); err != nil {
		return r.fail(codeFailed, "object_delete %s: %v", name, err)
	}
	return codeOK
}

type objectListOpts struct {
	Prefix     string `json:"prefix"`
	Cursor     string `json:"cursor"`
	Delimiter  string `json:"delimiter"`
	StartAfter string `json:"start_after"`
	Limit      int    `json:"limit"`
}

type objectListJSON struct {
	Objects           []objectInfoJSON `json:"objects"`
	DelimitedPrefixes []string         `json:"delimited_prefixes"`
	Truncated         bool             `json:"truncated"`
	Cursor            string           `json:"cursor,omitempty"`
}

func (r *reactor) objectList(m api.Module, p []uint32) int32 {
	b, name := r.bucket(m, p[0], p[1])
	var o objectListOpts
	if err := decodeOpts(m, p[2], p[3], &o); err != nil {
		return r.fail(codeBadInput, "object_list: %v", err)
	}
	view(m, p[4], p[5], "result buffer")
	if b == nil {
		return r.fail(codeNoBinding, "object_list: no bucket is bound as %q", name)
	}
	l, err := b.List(r.ctx, binding.ObjectListOptions{Prefix: o.Prefix, Cursor: o.Cursor, Delimiter: o.Delimiter, StartAfter: o.StartAfter, Limit: o.Limit})
	if err != nil {
		return r.fail(codeFailed, "object_list %s: %v", name, err)
	}
	out := objectListJSON{Objects: make([]objectInfoJSON, 0, len(l.Objects)), DelimitedPrefixes: l.DelimitedPrefixes, Truncated: l.Truncated, Cursor: l.Cursor}
	if out.DelimitedPrefixes == nil {
		out.DelimitedPrefixes = []string{}
	}
	for i := range l.Objects {
		out.Objects = append(out.Objects, infoJSON(&l.Objects[i]))
	}
	return r.giveJSON(m, out, p[4], p[5])
}

// httpFetch sends a request to a bound service, or (binding "") out to
// the internet through the service's outbound policy.
func (r *reactor) httpFetch(m api.Module, p []uint32) int32 {
	name := str(m, p[0], p[1], "binding name")
	rawHead := view(m, p[2], p[3], "request head")
	body := bytes.Clone(view(m, p[4], p[5], "request body"))
	view(m, p[6], p[7], "result buffer")
	head, n, err := parseList(rawHead)
	if err != nil || n != len(rawHead) || len(head) < 2 || len(head)%2 != 0 {
		return r.fail(codeBadInput, "http_fetch: the request head is not a string list of method, URL and header pairs")
	}
	h, err := parseHeaders(appendList(nil, head[2:]...))
	if err != nil {
		return r.fail(codeBadInput, "http_fetch: %v", err)
	}
	req, err := http.NewRequestWithContext(r.ctx, head[0], head[1], bytes.NewReader(body))
	if err != nil {
		return r.fail(codeBadInput, "http_fetch: %v", err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return r.fail(codeBadInput, "http_fetch: URL %q is not an absolute http or https URL", head[1])
	}
	for i := 0; i < len(h); i += 2 {
		req.Header.Add(h[i], h[i+1])
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	env := r.mod.spec.Env
	var resp *http.Response
	if name == "" {
		if env.Fetch == nil {
			return r.fail(codeDenied, "http_fetch: outbound requests are not allowed; list the hosts in [outbound] allowed_hosts")
		}
		resp, err = env.Fetch.Do(r.ctx, req)
	} else {
		svc := env.Services[name]
		if svc == nil {
			return r.fail(codeNoBinding, "http_fetch: no service is bound as %q", name)
		}
		resp, err = svc.Fetch(r.ctx, req)
	}
	if err != nil {
		return r.fail(codeFailed, "http_fetch %s %s: %v", head[0], head[1], err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
	if err != nil {
		return r.fail(codeFailed, "http_fetch %s %s: read body: %v", head[0], head[1], err)
	}
	if len(rb) > maxFetchBody {
		return r.fail(codeTooLarge, "http_fetch %s %s: response body is over the limit of %d bytes", head[0], head[1], maxFetchBody)
	}
	ss := []string{strconv.Itoa(resp.StatusCode)}
	for k, vs := range resp.Header {
		for _, v := range vs {
			ss = append(ss, k, v)
		}
	}
	return r.give(m, append(appendList(nil, ss...), rb...), p[6], p[7])
}

type queueSendOpts struct {
	ContentType  string `json:"content_type"`
	DelaySeconds *int   `json:"delay_seconds"` // absent: the binding's delivery_delay
}

func (r *reactor) queueSend(m api.Module, p []uint32) int32 {
	name := str(m, p[0], p[1], "binding name")
	body := bytes.Clone(view(m, p[2], p[3], "message body"))
	var o queueSendOpts
	if err := decodeOpts(m, p[4], p[5], &o); err != nil {
		return r.fail(codeBadInput, "queue_send: %v", err)
	}
	q := r.mod.spec.Env.Queues[name]
	if q == nil {
		return r.fail(codeNoBinding, "queue_send: no queue is bound as %q", name)
	}
	switch o.ContentType {
	case "":
		o.ContentType = "bytes"
	case "json", "text", "bytes":
	default:
		return r.fail(codeBadInput, "queue_send: content_type %q is not json, text or bytes", o.ContentType)
	}
	delay := -1
	if o.DelaySeconds != nil {
		if delay = *o.DelaySeconds; delay < 0 {
			return r.fail(codeBadInput, "queue_send: delay_seconds %d is negative", delay)
		}
	}
	if err := q.Send(r.ctx, []binding.Message{{Body: body, ContentType: o.ContentType, DelaySeconds: delay}}); err != nil {
		return r.fail(codeFailed, "queue_send %s: %v", name, err)
	}
	return codeOK
}
