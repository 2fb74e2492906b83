package js

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/wisp-run/wisp/internal/binding"
)

// bindingsJS makes the env objects around the Go handles below: one
// function expression returning the factories, compiled once per process
// and called in each runtime.
//
//go:embed prelude/80_bindings.js
var bindingsJS string

var (
	bindingsOnce sync.Once
	bindingsProg *goja.Program
	bindingsErr  error
)

func bindingsProgram() (*goja.Program, error) {
	bindingsOnce.Do(func() {
		bindingsProg, bindingsErr = goja.Compile("wisp:bindings", bindingsJS, true)
	})
	return bindingsProg, bindingsErr
}

// maxServiceResponse bounds a service-binding response read into JS
// memory (JS cannot stream it until the runtime has ReadableStream).
const maxServiceResponse = 64 << 20

// readChunk is how much of an object body one read() hands to JS.
const readChunk = 64 << 10

// errGlobalScope is Workers' error for I/O outside a handler.
var errGlobalScope = errors.New("Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), setting a timeout, and generating random values are not allowed within global scope. To fix this error, perform this operation within a handler.")

// addBindings puts the version's bindings (other than vars) on env, with
// the Cloudflare Workers signatures: secrets as strings, KV namespaces,
// buckets and service bindings as objects made by the prelude around Go
// handles.
func (in *instance) addBindings(env *goja.Object) error {
	vm := in.vm
	e := in.mod.spec.Env
	for _, name := range sortedKeys(e.Secrets) {
		if err := env.Set(name, e.Secrets[name]); err != nil {
			return err
		}
	}
	if err := in.addQueues(env); err != nil { // queues.go
		return err
	}
	if len(e.KV)+len(e.Buckets)+len(e.Services) == 0 {
		return nil
	}
	prog, err := bindingsProgram()
	if err != nil {
		return fmt.Errorf("compile bindings: %w", err)
	}
	fv, err := vm.RunProgram(prog)
	if err != nil {
		return fmt.Errorf("run bindings: %w", err)
	}
	mk, ok := goja.AssertFunction(fv)
	if !ok {
		return errors.New("js: 80_bindings.js is not a function expression")
	}
	factories, err := mk(goja.Undefined())
	if err != nil {
		return fmt.Errorf("run bindings: %w", err)
	}
	f := factories.ToObject(vm)
	add := func(factory, name string, handle *goja.Object) error {
		newBinding, ok := goja.AssertFunction(f.Get(factory))
		if !ok {
			return fmt.Errorf("js: 80_bindings.js has no %s factory", factory)
		}
		obj, err := newBinding(goja.Undefined(), vm.ToValue(name), handle)
		if err != nil {
			return fmt.Errorf("binding %s: %w", name, err)
		}
		return env.Set(name, obj)
	}
	for _, name := range sortedKeys(e.KV) {
		if err := add("kv", name, in.kvHandle(e.KV[name])); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(e.Buckets) {
		if err := add("bucket", name, in.bucketHandle(e.Buckets[name])); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(e.Services) {
		if err := add("service", name, in.serviceHandle(e.Services[name])); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// settle turns a result into JS on the loop: a value, or an error to
// reject with.
type settle func() (goja.Value, error)

// async runs work on a goroutine with the invocation's context and
// settles the returned promise on the loop with what work returns. work
// must not touch the VM; the settle function it returns runs on the loop.
func (in *instance) async(work func(ctx context.Context) settle) goja.Value {
	p, resolve, reject := in.vm.NewPromise()
	ctx := in.ctx
	if ctx == nil {
		_ = reject(in.jsError(errGlobalScope))
		return in.vm.ToValue(p)
	}
	post := in.loop.hold()
	go func() {
		s := work(ctx)
		post(func() error {
			v, err := s()
			if err != nil {
				_ = reject(in.jsError(err))
				return nil
			}
			_ = resolve(v)
			return nil
		})
	}()
	return in.vm.ToValue(p)
}

func done(v goja.Value, err error) settle { return func() (goja.Value, error) { return v, err } }

func failed(err error) settle { return done(nil, err) }

// jsError is the JS value to reject with for err: a thrown JS value as
// it is, a TypeError for bad arguments, an Error otherwise.
func (in *instance) jsError(err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	var te typeError
	ctor := "Error"
	if errors.As(err, &te) {
		ctor = "TypeError"
	}
	o, nerr := in.vm.New(in.vm.Get(ctor), in.vm.ToValue(err.Error()))
	if nerr != nil {
		return in.vm.ToValue(err.Error())
	}
	return o
}

// typeError marks an argument the caller got wrong.
type typeError struct{ msg string }

func (e typeError) Error() string { return e.msg }

// bytesOf copies a string, ArrayBuffer or ArrayBufferView (the prelude
// normalizes to these) for use off the loop.
func bytesOf(v goja.Value) ([]byte, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	switch x := v.Export().(type) {
	case string:
		return []byte(x), nil
	case goja.ArrayBuffer:
		return append([]byte(nil), x.Bytes()...), nil
	case []byte:
		return append([]byte(nil), x...), nil
	}
	return nil, typeError{fmt.Sprintf("expected a string or an ArrayBuffer, got %s", v.ExportType())}
}

func (in *instance) newObject(props map[string]any) *goja.Object {
	o := in.vm.NewObject()
	for k, v := range props {
		_ = o.Set(k, v)
	}
	return o
}

// --- KV ---

// kvValue is a KV value as JS gets it: text (json is parsed by the
// prelude) or an ArrayBuffer.
func (in *instance) kvValue(b []byte, typ string) goja.Value {
	if typ == "text" || typ == "json" {
		return in.vm.ToValue(strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	return in.vm.ToValue(in.vm.NewArrayBuffer(b))
}

// kvEntry is an entry as get() (a value or null) or getWithMetadata()
// ({value, metadata} or null) hands it to the prelude.
func (in *instance) kvEntry(e *binding.KVEntry, typ string, withMeta bool) goja.Value {
	if e == nil {
		return goja.Null()
	}
	if !withMeta {
		return in.kvValue(e.Value, typ)
	}
	meta := goja.Null()
	if e.Metadata != nil {
		meta = in.vm.ToValue(string(e.Metadata))
	}
	return in.newObject(map[string]any{"value": in.kvValue(e.Value, typ), "metadata": meta})
}

func (in *instance) kvHandle(ns binding.KV) *goja.Object {
	return in.newObject(map[string]any{
		"get": func(key, typ string, withMeta bool) goja.Value {
			return in.async(func(ctx context.Context) settle {
				e, err := ns.Get(ctx, key)
				if err != nil {
					return failed(err)
				}
				return func() (goja.Value, error) { return in.kvEntry(e, typ, withMeta), nil }
			})
		},
		"getMany": func(keys []string, typ string, withMeta bool) goja.Value {
			return in.async(func(ctx context.Context) settle { return in.kvGetMany(ctx, ns, keys, typ, withMeta) })
		},
		"put": func(key string, v goja.Value, expiration, ttl int64, metadata goja.Value) goja.Value {
			b, err := bytesOf(v)
			o := binding.KVPutOptions{Expiration: expiration, ExpirationTTL: ttl}
			if metadata != nil && !goja.IsUndefined(metadata) && !goja.IsNull(metadata) {
				o.Metadata = json.RawMessage(metadata.String())
			}
			return in.async(func(ctx context.Context) settle {
				if err != nil {
					return failed(err)
				}
				return done(goja.Undefined(), ns.Put(ctx, key, b, o))
			})
		},
		"delete": func(key string) goja.Value {
			return in.async(func(ctx context.Context) settle { return done(goja.Undefined(), ns.Delete(ctx, key)) })
		},
		"list": func(prefix string, limit int, cursor string) goja.Value {
			return in.async(func(ctx context.Context) settle {
				l, err := ns.List(ctx, binding.KVListOptions{Prefix: prefix, Limit: limit, Cursor: cursor})
				if err != nil {
					return failed(err)
				}
				return func() (goja.Value, error) { return in.kvListJS(l), nil }
			})
		},
	})
}

// kvGetMany reads keys (a bulk get) off the loop.
func (in *instance) kvGetMany(ctx context.Context, ns binding.KV, keys []string, typ string, withMeta bool) settle {
	es := make([]*binding.KVEntry, len(keys))
	for i, k := range keys {
		e, err := ns.Get(ctx, k)
		if err != nil {
			return failed(err)
		}
		es[i] = e
	}
	return func() (goja.Value, error) {
		out := make([]any, len(es))
		for i, e := range es {
			out[i] = in.kvEntry(e, typ, withMeta)
		}
		return in.vm.ToValue(in.vm.NewArray(out...)), nil
	}
}

// kvListJS is a list page for the prelude: metadata stays JSON text.
func (in *instance) kvListJS(l *binding.KVList) goja.Value {
	keys := make([]any, len(l.Keys))
	for i, k := range l.Keys {
		o := in.newObject(map[string]any{"name": k.Name})
		if k.Expiration != 0 {
			_ = o.Set("expiration", k.Expiration)
		}
		if k.Metadata != nil {
			_ = o.Set("metadata", string(k.Metadata))
		}
		keys[i] = o
	}
	return in.newObject(map[string]any{"keys": in.vm.NewArray(keys...), "complete": l.Complete, "cursor": l.Cursor})
}

// --- buckets ---

// objectOptions is put()'s and get()'s options as the prelude sends them
// (JSON, so that Go reads plain values).
type objectOptions struct {
	ContentType    string            `json:"contentType"`
	CustomMetadata map[string]string `json:"customMetadata"`
	HTTP           struct {
		ContentLanguage    string `json:"contentLanguage"`
		ContentDisposition string `json:"contentDisposition"`
		ContentEncoding    string `json:"contentEncoding"`
		CacheControl       string `json:"cacheControl"`
		CacheExpiry        *int64 `json:"cacheExpiry"` // unix ms
	} `json:"http"`
	MD5    string `json:"md5"`
	Offset *int64 `json:"offset"`
	Length *int64 `json:"length"`
	Suffix *int64 `json:"suffix"`
	// list
	Prefix     string `json:"prefix"`
	Cursor     string `json:"cursor"`
	Delimiter  string `json:"delimiter"`
	StartAfter string `json:"startAfter"`
	Limit      int    `json:"limit"`
}

func parseObjectOptions(s string) (*objectOptions, error) {
	var o objectOptions
	if s == "" {
		return &o, nil
	}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, typeError{"bad bucket options: " + err.Error()}
	}
	return &o, nil
}

func (o *objectOptions) put() binding.ObjectPutOptions {
	p := binding.ObjectPutOptions{ContentType: o.ContentType, CustomMetadata: o.CustomMetadata, MD5: o.MD5}
	p.ContentLanguage, p.ContentDisposition = o.HTTP.ContentLanguage, o.HTTP.ContentDisposition
	p.ContentEncoding, p.CacheControl = o.HTTP.ContentEncoding, o.HTTP.CacheControl
	if o.HTTP.CacheExpiry != nil {
		p.CacheExpiry = time.UnixMilli(*o.HTTP.CacheExpiry).UTC()
	}
	return p
}

func (in *instance) objectInfo(i *binding.ObjectInfo) *goja.Object {
	http := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			http[k] = v
		}
	}
	set("contentType", i.ContentType)
	set("contentLanguage", i.ContentLanguage)
	set("contentDisposition", i.ContentDisposition)
	set("contentEncoding", i.ContentEncoding)
	set("cacheControl", i.CacheControl)
	if !i.CacheExpiry.IsZero() {
		http["cacheExpiry"] = i.CacheExpiry.UnixMilli()
	}
	custom := map[string]any{}
	for k, v := range i.CustomMetadata {
		custom[k] = v
	}
	return in.newObject(map[string]any{
		"key": i.Key, "version": i.Version, "size": i.Size, "etag": i.ETag,
		"uploaded": i.Uploaded.UnixMilli(), "http": in.newObject(http), "custom": in.newObject(custom),
	})
}

func (in *instance) bucketHandle(b binding.Bucket) *goja.Object {
	return in.newObject(map[string]any{
		"put": func(key string, v goja.Value, opts string) goja.Value {
			body, err := bytesOf(v)
			o, oerr := parseObjectOptions(opts)
			return in.async(func(ctx context.Context) settle {
				if err = errors.Join(err, oerr); err != nil {
					return failed(err)
				}
				return in.infoJS(b.Put(ctx, key, bytes.NewReader(body), o.put()))
			})
		},
		"putStream": func(key string, opts string) goja.Value {
			o, err := parseObjectOptions(opts)
			if err != nil {
				return in.async(func(context.Context) settle { return failed(err) })
			}
			return in.putStream(b, key, o)
		},
		"get": func(key string, opts string) goja.Value {
			o, err := parseObjectOptions(opts)
			return in.async(func(ctx context.Context) settle {
				if err != nil {
					return failed(err)
				}
				return in.bucketGet(ctx, b, key, o)
			})
		},
		"head": func(key string) goja.Value {
			return in.async(func(ctx context.Context) settle { return in.infoJS(b.Head(ctx, key)) })
		},
		"delete": func(keys []string) goja.Value {
			return in.async(func(ctx context.Context) settle { return done(goja.Undefined(), b.Delete(ctx, keys...)) })
		},
		"list": func(opts string) goja.Value {
			o, err := parseObjectOptions(opts)
			return in.async(func(ctx context.Context) settle {
				if err != nil {
					return failed(err)
				}
				return in.bucketList(ctx, b, o)
			})
		},
	})
}

// infoJS settles with an object's info, or null for none.
func (in *instance) infoJS(i *binding.ObjectInfo, err error) settle {
	if err != nil {
		return failed(err)
	}
	return func() (goja.Value, error) {
		if i == nil {
			return goja.Null(), nil
		}
		return in.objectInfo(i), nil
	}
}

// bucketGet gets an object off the loop; its body is read later, chunk by
// chunk, through a body handle.
func (in *instance) bucketGet(ctx context.Context, b binding.Bucket, key string, o *objectOptions) settle {
	g := binding.ObjectGetOptions{}
	if o.Offset != nil {
		g.RangeOffset = *o.Offset
	}
	if o.Length != nil {
		g.RangeLength = *o.Length
	}
	if o.Suffix != nil {
		g.RangeSuffix = *o.Suffix
	}
	obj, err := b.Get(ctx, key, g)
	if err != nil {
		return failed(err)
	}
	return func() (goja.Value, error) {
		if obj == nil {
			return goja.Null(), nil
		}
		i := in.objectInfo(&obj.ObjectInfo)
		_ = i.Set("range", in.newObject(map[string]any{"offset": obj.RangeOffset, "length": obj.RangeLength}))
		_ = i.Set("body", in.bodyHandle(obj.Body))
		return i, nil
	}
}

// bucketList lists a page of objects off the loop.
func (in *instance) bucketList(ctx context.Context, b binding.Bucket, o *objectOptions) settle {
	l, err := b.List(ctx, binding.ObjectListOptions{Prefix: o.Prefix, Cursor: o.Cursor, Delimiter: o.Delimiter, StartAfter: o.StartAfter, Limit: o.Limit})
	if err != nil {
		return failed(err)
	}
	return func() (goja.Value, error) {
		objs := make([]any, len(l.Objects))
		for i := range l.Objects {
			objs[i] = in.objectInfo(&l.Objects[i])
		}
		prefixes := make([]any, len(l.DelimitedPrefixes))
		for i, p := range l.DelimitedPrefixes {
			prefixes[i] = p
		}
		return in.newObject(map[string]any{
			"objects": in.vm.NewArray(objs...), "truncated": l.Truncated, "cursor": l.Cursor, "delimitedPrefixes": in.vm.NewArray(prefixes...),
		}), nil
	}
}

// bodyHandle reads an object's body: read() gives the next chunk (an
// ArrayBuffer, or null at the end), readAll(text) the rest at once (as a
// string when text). The body
// is read with the invocation's context, so it cannot outlive it.
func (in *instance) bodyHandle(body io.ReadCloser) *goja.Object {
	vm := in.vm
	return in.newObject(map[string]any{
		"read": func() goja.Value {
			return in.async(func(context.Context) settle {
				buf := make([]byte, readChunk)
				n, err := io.ReadFull(body, buf)
				if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
					body.Close()
					return failed(err)
				}
				if n == 0 {
					body.Close()
					return done(goja.Null(), nil)
				}
				return func() (goja.Value, error) { return vm.ToValue(vm.NewArrayBuffer(buf[:n])), nil }
			})
		},
		"readAll": func(text bool) goja.Value {
			return in.async(func(context.Context) settle {
				defer body.Close()
				b, err := io.ReadAll(body)
				if err != nil {
					return failed(err)
				}
				return func() (goja.Value, error) {
					if text {
						return vm.ToValue(strings.ToValidUTF8(string(b), "\uFFFD")), nil
					}
					return vm.ToValue(vm.NewArrayBuffer(b)), nil
				}
			})
		},
		"cancel": func() { body.Close() },
	})
}

// putStream starts a streamed put: the returned handle's write(chunk)
// resolves once the store has taken the chunk (so a fast producer waits
// for a slow store), close() resolves with the object's info, abort()
// stores nothing.
func (in *instance) putStream(b binding.Bucket, key string, o *objectOptions) goja.Value {
	ctx := in.ctx
	if ctx == nil {
		return in.async(nil)
	}
	pr, pw := io.Pipe()
	type result struct {
		info *binding.ObjectInfo
		err  error
	}
	res := make(chan result, 1)
	stop := context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	go func() {
		defer stop()
		i, err := b.Put(ctx, key, pr, o.put())
		pr.CloseWithError(errors.Join(err, errors.New("the put has ended")))
		res <- result{i, err}
	}()
	h := in.newObject(map[string]any{
		"write": func(chunk goja.Value) goja.Value {
			data, err := bytesOf(chunk)
			return in.async(func(context.Context) settle {
				if err != nil {
					pw.CloseWithError(err)
					return failed(err)
				}
				if _, err := pw.Write(data); err != nil {
					r := <-res
					res <- r
					return failed(errors.Join(r.err, err))
				}
				return done(goja.Undefined(), nil)
			})
		},
		"close": func() goja.Value {
			return in.async(func(context.Context) settle {
				pw.Close()
				r := <-res
				if r.err != nil {
					return failed(r.err)
				}
				return func() (goja.Value, error) { return in.objectInfo(r.info), nil }
			})
		},
		"abort": func(reason string) { pw.CloseWithError(errors.New("the stream was aborted: " + reason)) },
	})
	return in.async(func(context.Context) settle { return done(h, nil) })
}

// --- service bindings ---

func (in *instance) serviceHandle(s binding.Service) *goja.Object {
	return in.newObject(map[string]any{
		"fetch": func(method, url string, flat []string, body goja.Value) goja.Value {
			b, err := bytesOf(body)
			return in.async(func(ctx context.Context) settle {
				if err != nil {
					return failed(err)
				}
				return in.serviceFetch(ctx, s, method, url, flat, b)
			})
		},
	})
}

// serviceFetch makes a service-binding call off the loop and reads the
// response (bounded) for the prelude's Response.
func (in *instance) serviceFetch(ctx context.Context, s binding.Service, method, url string, flat []string, body []byte) settle {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return failed(typeError{fmt.Sprintf("Fetch API cannot load: %s (%v)", url, err)})
	}
	for i := 0; i+1 < len(flat); i += 2 {
		req.Header.Add(flat[i], flat[i+1])
	}
	resp, err := s.Fetch(ctx, req)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxServiceResponse+1))
	if err != nil {
		return failed(fmt.Errorf("reading the response of %s: %w", url, err))
	}
	if len(data) > maxServiceResponse {
		return failed(fmt.Errorf("the response of %s is over %d MiB, more than this runtime reads into memory", url, maxServiceResponse>>20))
	}
	return func() (goja.Value, error) {
		var hs []any
		for k, vs := range resp.Header {
			for _, v := range vs {
				hs = append(hs, strings.ToLower(k), v)
			}
		}
		return in.newObject(map[string]any{
			"status": resp.StatusCode, "headers": in.vm.NewArray(hs...), "body": in.vm.NewArrayBuffer(data),
		}), nil
	}
}
