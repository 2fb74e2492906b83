package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/binding/kv"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// clock is a settable clock for expiry.
type clock struct{ unix atomic.Int64 }

func (c *clock) now() time.Time    { return time.Unix(c.unix.Load(), 0) }
func (c *clock) advance(s int64)   { c.unix.Add(s) }
func newClock() *clock             { c := &clock{}; c.unix.Store(time.Now().Unix()); return c }
func ctx() context.Context         { return context.Background() }
func raw(s string) json.RawMessage { return json.RawMessage(s) }
func kvErr(err error) *kv.Error    { var e *kv.Error; errors.As(err, &e); return e }
func mustNil(t *testing.T, e error) {
	t.Helper()
	if e != nil {
		t.Fatal(e)
	}
}

func open(t testing.TB, c *clock) *kv.Store {
	t.Helper()
	st := storetest.Open(t)
	b, err := blob.Open(ctx(), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	s, err := kv.Open(ctx(), st, b, kv.Config{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInvalidCallsAreRefusedAsOnWorkers(t *testing.T) {
	c := newClock()
	s := open(t, c)
	ns, _ := s.Private("svc", "DATA")
	now := c.now().Unix()
	long := strings.Repeat("k", 513)
	tests := []struct {
		name        string
		call        func() error
		expectedErr string
	}{
		{"empty key", func() error { return ns.Put(ctx(), "", nil, binding.KVPutOptions{}) }, "KV PUT failed: 400 Key names must not be empty"},
		{"dot key", func() error { return ns.Put(ctx(), ".", nil, binding.KVPutOptions{}) }, `KV PUT failed: 400 Illegal key name ".". Please use a different name.`},
		{"dotdot get", func() error { _, err := ns.Get(ctx(), ".."); return err }, `KV GET failed: 400 Illegal key name "..". Please use a different name.`},
		{"long key", func() error { return ns.Put(ctx(), long, nil, binding.KVPutOptions{}) }, "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."},
		{"long multibyte key", func() error { return ns.Delete(ctx(), strings.Repeat("é", 257)) }, "KV DELETE failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512."},
		{"ttl below 60", func() error { return ns.Put(ctx(), "k", nil, binding.KVPutOptions{ExpirationTTL: 59}) }, "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60."},
		{"negative ttl", func() error { return ns.Put(ctx(), "k", nil, binding.KVPutOptions{ExpirationTTL: -1}) }, "KV PUT failed: 400 Invalid expiration_ttl of -1. Please specify integer greater than 0."},
		{"expiration past", func() error { return ns.Put(ctx(), "k", nil, binding.KVPutOptions{Expiration: now}) }, fmt.Sprintf("KV PUT failed: 400 Invalid expiration of %d. Please specify integer greater than the current number of seconds since the UNIX epoch.", now)},
		{"expiration too soon", func() error { return ns.Put(ctx(), "k", nil, binding.KVPutOptions{Expiration: now + 59}) }, fmt.Sprintf("KV PUT failed: 400 Invalid expiration of %d. Expiration times must be at least 60 seconds in the future.", now+59)},
		{"metadata too big", func() error {
			return ns.Put(ctx(), "k", nil, binding.KVPutOptions{Metadata: raw(`"` + strings.Repeat("m", 1023) + `"`)})
		}, "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."},
		{"metadata not JSON", func() error { return ns.Put(ctx(), "k", nil, binding.KVPutOptions{Metadata: raw(`{`)}) }, "KV PUT failed: 400 Metadata must be serialized JSON"},
		{"value too big", func() error { return ns.Put(ctx(), "k", make([]byte, kv.MaxValueBytes+1), binding.KVPutOptions{}) }, "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."},
		{"list limit 0 is default, -1 is not", func() error { _, err := ns.List(ctx(), binding.KVListOptions{Limit: -1}); return err }, "KV LIST failed: 400 Invalid key_count_limit of -1. Please specify an integer greater than 0."},
		{"list limit over 1000", func() error { _, err := ns.List(ctx(), binding.KVListOptions{Limit: 1001}); return err }, "KV LIST failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."},
		{"list long prefix", func() error { _, err := ns.List(ctx(), binding.KVListOptions{Prefix: long}); return err }, "KV LIST failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."},
		{"bad cursor", func() error { _, err := ns.List(ctx(), binding.KVListOptions{Cursor: "nope!"}); return err }, `KV LIST failed: 400 Invalid cursor "nope!"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || err.Error() != tc.expectedErr || kvErr(err) == nil {
				t.Fatalf("err = %v\nwant  %s", err, tc.expectedErr)
			}
		})
	}
	// Nothing was stored by any of them.
	l, err := ns.List(ctx(), binding.KVListOptions{})
	if err != nil || len(l.Keys) != 0 {
		t.Fatalf("refused calls stored %+v (%v)", l, err)
	}
}

func TestGetPutDeleteMetadata(t *testing.T) {
	c := newClock()
	ns, _ := open(t, c).Private("svc", "DATA")
	if e, err := ns.Get(ctx(), "missing"); e != nil || err != nil {
		t.Fatalf("absent key: %+v %v", e, err)
	}
	mustNil(t, ns.Put(ctx(), "k", []byte("v1"), binding.KVPutOptions{Metadata: raw(`{ "a" : [1, 2] }`)}))
	e, err := ns.Get(ctx(), "k")
	if err != nil || string(e.Value) != "v1" || string(e.Metadata) != `{"a":[1,2]}` || e.Expiration != 0 {
		t.Fatalf("get: %+v %v", e, err)
	}
	mustNil(t, ns.Put(ctx(), "k", []byte{}, binding.KVPutOptions{}))
	e, err = ns.Get(ctx(), "k")
	if err != nil || e == nil || len(e.Value) != 0 || e.Metadata != nil {
		t.Fatalf("overwrite with an empty value and no metadata: %+v %v", e, err)
	}
	mustNil(t, ns.Delete(ctx(), "k"))
	mustNil(t, ns.Delete(ctx(), "k"))
	if e, err := ns.Get(ctx(), "k"); e != nil || err != nil {
		t.Fatalf("after delete: %+v %v", e, err)
	}
}

func TestExpiry(t *testing.T) {
	c := newClock()
	ns, _ := open(t, c).Named("sessions")
	start := c.now().Unix()
	mustNil(t, ns.Put(ctx(), "ttl", []byte("a"), binding.KVPutOptions{ExpirationTTL: 60, Metadata: raw(`1`)}))
	mustNil(t, ns.Put(ctx(), "abs", []byte("b"), binding.KVPutOptions{Expiration: start + 120}))
	mustNil(t, ns.Put(ctx(), "both", []byte("c"), binding.KVPutOptions{Expiration: start + 600, ExpirationTTL: 90}))
	mustNil(t, ns.Put(ctx(), "forever", []byte("d"), binding.KVPutOptions{}))
	list := func() map[string]int64 {
		l, err := ns.List(ctx(), binding.KVListOptions{})
		mustNil(t, err)
		m := map[string]int64{}
		for _, k := range l.Keys {
			m[k.Name] = k.Expiration
		}
		return m
	}
	want := map[string]int64{"ttl": start + 60, "abs": start + 120, "both": start + 90, "forever": 0}
	if got := list(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("expirations %v, want %v (expirationTtl wins over expiration)", got, want)
	}
	e, _ := ns.Get(ctx(), "ttl")
	if e == nil || e.Expiration != start+60 {
		t.Fatalf("get before expiry: %+v", e)
	}
	c.advance(60)
	if e, err := ns.Get(ctx(), "ttl"); e != nil || err != nil {
		t.Fatalf("expired key still returned: %+v %v", e, err)
	}
	if got := list(); fmt.Sprint(got) != fmt.Sprint(map[string]int64{"abs": start + 120, "both": start + 90, "forever": 0}) {
		t.Fatalf("after 60s: %v", got)
	}
	c.advance(60)
	if got := list(); fmt.Sprint(got) != fmt.Sprint(map[string]int64{"forever": 0}) {
		t.Fatalf("after 120s: %v", got)
	}
}

func TestNamespacesAreIsolated(t *testing.T) {
	c := newClock()
	s := open(t, c)
	a, _ := s.Private("a", "DATA")
	b, _ := s.Private("b", "DATA")
	a2, _ := s.Private("a", "OTHER")
	shared1, _ := s.Named("catalog")
	shared2, _ := s.Named("catalog")
	mustNil(t, a.Put(ctx(), "k", []byte("a's"), binding.KVPutOptions{}))
	mustNil(t, shared1.Put(ctx(), "k", []byte("shared"), binding.KVPutOptions{}))
	for name, ns := range map[string]*kv.Namespace{"b": b, "a OTHER": a2} {
		if e, _ := ns.Get(ctx(), "k"); e != nil {
			t.Fatalf("%s reads a's key: %q", name, e.Value)
		}
	}
	if e, _ := shared2.Get(ctx(), "k"); e == nil || string(e.Value) != "shared" {
		t.Fatalf("named namespace not shared: %+v", e)
	}
	if e, _ := a.Get(ctx(), "k"); string(e.Value) != "a's" {
		t.Fatal("the named namespace overwrote a private one")
	}
	if _, err := s.Private("Bad.Service", "X"); err == nil {
		t.Fatal("a namespace token with a dot was accepted")
	}
}

func TestLargeValuesGoToBlobs(t *testing.T) {
	c := newClock()
	ns, _ := open(t, c).Private("svc", "BIG")
	for _, n := range []int{1 << 20, kv.MaxValueBytes} {
		v := bytes.Repeat([]byte{byte(n)}, n)
		mustNil(t, ns.Put(ctx(), "big", v, binding.KVPutOptions{Metadata: raw(`"m"`)}))
		e, err := ns.Get(ctx(), "big")
		if err != nil || !bytes.Equal(e.Value, v) || string(e.Metadata) != `"m"` {
			t.Fatalf("%d-byte value: %v", n, err)
		}
	}
	mustNil(t, ns.Delete(ctx(), "big"))
	if e, _ := ns.Get(ctx(), "big"); e != nil {
		t.Fatal("large value survived delete")
	}
}

func TestListPagingOverTenThousandKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 keys")
	}
	c := newClock()
	ns, _ := open(t, c).Private("svc", "MANY")
	const n = 10_000
	errs := make(chan error, 16)
	for w := range 16 {
		go func() {
			var err error
			for i := w; i < n && err == nil; i += 16 {
				err = ns.Put(ctx(), fmt.Sprintf("user:%05d", i), []byte("v"), binding.KVPutOptions{Metadata: raw(fmt.Sprint(i))})
			}
			errs <- err
		}()
	}
	for range 16 {
		mustNil(t, <-errs)
	}
	mustNil(t, ns.Put(ctx(), "other", []byte("v"), binding.KVPutOptions{}))
	var got []string
	cursor := ""
	for pages := 1; ; pages++ {
		l, err := ns.List(ctx(), binding.KVListOptions{Prefix: "user:", Cursor: cursor})
		mustNil(t, err)
		for _, k := range l.Keys {
			if want := fmt.Sprintf("user:%05d", len(got)); k.Name != want || string(k.Metadata) != fmt.Sprint(len(got)) {
				t.Fatalf("key %d is %q (metadata %s), want %q", len(got), k.Name, k.Metadata, want)
			}
			got = append(got, k.Name)
		}
		if l.Complete {
			if len(got) != n || pages != 10 || l.Cursor != "" {
				t.Fatalf("listed %d keys in %d pages (cursor %q)", len(got), pages, l.Cursor)
			}
			return
		}
		if len(l.Keys) != 1000 || l.Cursor == "" {
			t.Fatalf("incomplete page of %d keys, cursor %q", len(l.Keys), l.Cursor)
		}
		cursor = l.Cursor
	}
}
