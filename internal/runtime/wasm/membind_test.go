package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
)

// In-memory implementations of the binding interfaces, so the host
// functions are tested against the same contract issue #5's JetStream
// implementations satisfy.

type memKV struct {
	mu sync.Mutex
	m  map[string]binding.KVEntry
}

func newMemKV() *memKV { return &memKV{m: map[string]binding.KVEntry{}} }

func (k *memKV) Get(_ context.Context, key string) (*binding.KVEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key == "" {
		return nil, errors.New("key must not be empty")
	}
	e, ok := k.m[key]
	if !ok {
		return nil, nil
	}
	return &e, nil
}

func (k *memKV) Put(_ context.Context, key string, value []byte, o binding.KVPutOptions) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key == "" {
		return errors.New("key must not be empty")
	}
	exp := o.Expiration
	if o.ExpirationTTL > 0 {
		exp = time.Now().Unix() + o.ExpirationTTL
	}
	k.m[key] = binding.KVEntry{Value: bytes.Clone(value), Metadata: o.Metadata, Expiration: exp}
	return nil
}

func (k *memKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

func (k *memKV) List(_ context.Context, o binding.KVListOptions) (*binding.KVList, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := &binding.KVList{Complete: true}
	for name, e := range k.m {
		if strings.HasPrefix(name, o.Prefix) {
			l.Keys = append(l.Keys, binding.KVKey{Name: name, Expiration: e.Expiration, Metadata: e.Metadata})
		}
	}
	sort.Slice(l.Keys, func(i, j int) bool { return l.Keys[i].Name < l.Keys[j].Name })
	return l, nil
}

type memObject struct {
	info binding.ObjectInfo
	body []byte
}

type memBucket struct {
	mu sync.Mutex
	m  map[string]memObject
}

func newMemBucket() *memBucket { return &memBucket{m: map[string]memObject{}} }

func (b *memBucket) Put(_ context.Context, key string, body io.Reader, o binding.ObjectPutOptions) (*binding.ObjectInfo, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	info := binding.ObjectInfo{Key: key, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:8]), Uploaded: time.Now(), ContentType: o.ContentType, CustomMetadata: o.CustomMetadata}
	b.mu.Lock()
	b.m[key] = memObject{info, data}
	b.mu.Unlock()
	return &info, nil
}

func (b *memBucket) Get(_ context.Context, key string, o binding.ObjectGetOptions) (*binding.Object, error) {
	b.mu.Lock()
	obj, ok := b.m[key]
	b.mu.Unlock()
	if !ok {
		return nil, nil
	}
	data := obj.body
	if o.RangeOffset > 0 || o.RangeLength > 0 {
		end := int64(len(data))
		if o.RangeLength > 0 {
			end = min(end, o.RangeOffset+o.RangeLength)
		}
		data = data[min(o.RangeOffset, int64(len(data))):end]
	}
	return &binding.Object{ObjectInfo: obj.info, Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (b *memBucket) Head(_ context.Context, key string) (*binding.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	obj, ok := b.m[key]
	if !ok {
		return nil, nil
	}
	return &obj.info, nil
}

func (b *memBucket) Delete(_ context.Context, keys ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.m, k)
	}
	return nil
}

func (b *memBucket) List(_ context.Context, o binding.ObjectListOptions) (*binding.ObjectList, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := &binding.ObjectList{}
	for k, obj := range b.m {
		if strings.HasPrefix(k, o.Prefix) {
			l.Objects = append(l.Objects, obj.info)
		}
	}
	sort.Slice(l.Objects, func(i, j int) bool { return l.Objects[i].Key < l.Objects[j].Key })
	return l, nil
}

type memQueue struct {
	mu   sync.Mutex
	msgs []binding.Message
}

func (q *memQueue) Send(_ context.Context, msgs []binding.Message) error {
	q.mu.Lock()
	q.msgs = append(q.msgs, msgs...)
	q.mu.Unlock()
	return nil
}

// handlerService calls an http.Handler in-process, as a service binding.
type handlerService struct{ h http.Handler }

func (s handlerService) Fetch(_ context.Context, req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// allowFetcher lets requests to one host through to a handler and refuses
// the rest, as the [outbound] policy would.
type allowFetcher struct {
	host string
	h    http.Handler
}

func (f allowFetcher) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if req.URL.Host != f.host {
		return nil, errors.New("host " + req.URL.Host + " is not in [outbound] allowed_hosts")
	}
	return handlerService{f.h}.Fetch(ctx, req)
}
