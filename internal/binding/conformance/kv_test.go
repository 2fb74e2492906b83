package conformance

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type m = map[string]any

func TestKV(t *testing.T) {
	forEachRunner(t, func(t *testing.T, s *suite) {
		s.deploy("kvguest", "[[kv_namespaces]]\nbinding = \"DATA\"\n")
		op := func(name string, fields m) m {
			f := m{"op": name, "binding": "DATA"}
			for k, v := range fields {
				f[k] = v
			}
			return f
		}
		t.Run("types", func(t *testing.T) {
			s := s.with(t)
			s.ok("kvguest", op("kv.put", m{"key": "text", "text": "héllo"}))
			s.ok("kvguest", op("kv.put", m{"key": "json", "json": m{"a": []int{1, 2}}}))
			s.ok("kvguest", op("kv.put", m{"key": "bytes", "hex": "00ff10"}))
			for _, tc := range []struct {
				key     string
				options any
				want    any
			}{
				{"text", nil, "héllo"},
				{"text", "text", "héllo"},
				{"json", "json", m{"a": []any{1.0, 2.0}}},
				{"json", m{"type": "json", "cacheTtl": 60}, m{"a": []any{1.0, 2.0}}},
				{"bytes", "arrayBuffer", m{"hex": "00ff10"}},
				{"text", "arrayBuffer", m{"hex": "68c3a96c6c6f"}},
				{"missing", "json", nil},
			} {
				got := s.ok("kvguest", op("kv.get", m{"key": tc.key, "options": tc.options}))
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("get(%q, %v) = %#v, want %#v", tc.key, tc.options, got, tc.want)
				}
			}
			s.fails("kvguest", op("kv.get", m{"key": "text", "options": "blob"}), `Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`)
			s.fails("kvguest", op("kv.get", m{"key": "text", "options": m{"cacheTtl": 5}}), "KV GET failed: 400 Invalid cache_ttl of 5. Cache TTL must be at least 30.")
			s.fails("kvguest", op("kv.get", m{"key": "text", "options": "json"}), "") // not JSON: a SyntaxError
			got := s.ok("kvguest", op("kv.get", m{"key": []string{"text", "missing"}}))
			if !reflect.DeepEqual(got, m{"text": "héllo", "missing": nil}) {
				t.Errorf("bulk get: %#v", got)
			}
		})

		t.Run("stream type", func(t *testing.T) {
			s := s.with(t)
			v, errMsg := s.rpc("kvguest", op("kv.get", m{"key": "text", "options": "stream"}))
			s.skipIfMissing(errMsg, "ReadableStream", "issue #3")
			if errMsg != "" || !reflect.DeepEqual(v, m{"hex": "68c3a96c6c6f"}) {
				t.Fatalf("get(key, \"stream\") = %v, %s", v, errMsg)
			}
		})

		t.Run("streamed value", func(t *testing.T) {
			s := s.with(t)
			s.ok("kvguest", op("kv.putStream", m{"key": "streamed", "chunks": []string{"one ", "two ", "three"}}))
			if got := s.ok("kvguest", op("kv.get", m{"key": "streamed"})); got != "one two three" {
				t.Fatalf("streamed value reads %v", got)
			}
			s.fails("kvguest", op("kv.putStream", m{"key": "huge", "chunks": []string{}, "extraMiB": 26}), "KV PUT failed: 413 Value length of at least 27262976 exceeds limit of 26214400.")
		})

		t.Run("metadata", func(t *testing.T) {
			s := s.with(t)
			s.ok("kvguest", op("kv.put", m{"key": "meta", "text": "v", "options": m{"metadata": m{"owner": "ann", "n": 1}}}))
			got := s.ok("kvguest", op("kv.getWithMetadata", m{"key": "meta"}))
			want := m{"value": "v", "metadata": m{"owner": "ann", "n": 1.0}, "cacheStatus": nil}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("getWithMetadata = %#v", got)
			}
			got = s.ok("kvguest", op("kv.getWithMetadata", m{"key": "nope"}))
			if !reflect.DeepEqual(got, m{"value": nil, "metadata": nil, "cacheStatus": nil}) {
				t.Fatalf("getWithMetadata(absent) = %#v", got)
			}
			l := asMap(t, s.ok("kvguest", op("kv.list", m{"options": m{"prefix": "meta"}})))
			keys := l["keys"].([]any)
			if len(keys) != 1 || !reflect.DeepEqual(keys[0], m{"name": "meta", "metadata": m{"owner": "ann", "n": 1.0}}) || l["list_complete"] != true || l["cursor"] != nil {
				t.Fatalf("list = %#v", l)
			}
			// Overwriting without metadata drops it.
			s.ok("kvguest", op("kv.put", m{"key": "meta", "text": "w"}))
			got = s.ok("kvguest", op("kv.getWithMetadata", m{"key": "meta"}))
			if !reflect.DeepEqual(got, m{"value": "w", "metadata": nil, "cacheStatus": nil}) {
				t.Fatalf("after overwrite: %#v", got)
			}
			s.ok("kvguest", op("kv.delete", m{"key": "meta"}))
			if got := s.ok("kvguest", op("kv.get", m{"key": "meta"})); got != nil {
				t.Fatalf("deleted key reads %v", got)
			}
		})

		t.Run("limits", func(t *testing.T) {
			s := s.with(t)
			for _, tc := range []struct {
				name, op    string
				fields      m
				expectedErr string
			}{
				{"empty key", "kv.put", m{"key": "", "text": "x"}, "KV PUT failed: 400 Key names must not be empty"},
				{"dot key", "kv.get", m{"key": "."}, `KV GET failed: 400 Illegal key name ".". Please use a different name.`},
				{"513-byte key", "kv.put", m{"key": strings.Repeat("k", 513), "text": "x"}, "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."},
				{"ttl 30", "kv.put", m{"key": "k", "text": "x", "options": m{"expirationTtl": 30}}, "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."},
				{"ttl 0", "kv.put", m{"key": "k", "text": "x", "options": m{"expirationTtl": 0}}, "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."},
				{"expiration soon", "kv.put", m{"key": "k", "text": "x", "options": m{"expiration": time.Now().Unix() + 10}}, "Expiration times must be at least 60 seconds in the future."},
				{"metadata 1025", "kv.put", m{"key": "k", "text": "x", "options": m{"metadata": strings.Repeat("m", 1023)}}, "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."},
				{"value 25 MiB + 1", "kv.put", m{"key": "k", "text": strings.Repeat("v", 25<<20+1)}, "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."},
				{"list limit 1001", "kv.list", m{"options": m{"limit": 1001}}, "KV LIST failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."},
				{"list limit 0", "kv.list", m{"options": m{"limit": 0}}, "KV LIST failed: 400 Invalid key_count_limit of 0. Please specify an integer greater than 0."},
				{"bad cursor", "kv.list", m{"options": m{"cursor": "!!"}}, "KV LIST failed: 400 Invalid cursor"},
				{"bulk of 101", "kv.get", m{"key": make([]string, 101)}, "KV GET failed: 400 You can request a maximum of 100 keys"},
				{"bad value", "kv.put", m{"key": "k"}, "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."},
			} {
				t.Run(tc.name, func(t *testing.T) { s.with(t).fails("kvguest", op(tc.op, tc.fields), tc.expectedErr) })
			}
			if got := s.ok("kvguest", op("kv.get", m{"key": "k"})); got != nil {
				t.Fatalf("a refused put stored %v", got)
			}
			// 25 MiB exactly is fine.
			s.ok("kvguest", op("kv.put", m{"key": "big", "text": strings.Repeat("v", 25<<20)}))
			if got := s.ok("kvguest", op("kv.get", m{"key": "big"})); len(got.(string)) != 25<<20 {
				t.Fatalf("25 MiB value read back as %d bytes", len(got.(string)))
			}
		})

		t.Run("expiry", func(t *testing.T) {
			s := s.with(t)
			now := s.clock.now().Unix()
			s.ok("kvguest", op("kv.put", m{"key": "ttl", "text": "a", "options": m{"expirationTtl": 60}}))
			s.ok("kvguest", op("kv.put", m{"key": "abs", "text": "b", "options": m{"expiration": now + 300}}))
			l := asMap(t, s.ok("kvguest", op("kv.list", m{"options": m{"prefix": "abs"}})))
			if exp := l["keys"].([]any)[0].(map[string]any)["expiration"]; exp != float64(now+300) {
				t.Fatalf("listed expiration %v, want %d", exp, now+300)
			}
			s.clock.advance(61 * time.Second)
			if got := s.ok("kvguest", op("kv.get", m{"key": "ttl"})); got != nil {
				t.Fatalf("expired key reads %v", got)
			}
			if got := s.ok("kvguest", op("kv.get", m{"key": "abs"})); got != "b" {
				t.Fatalf("unexpired key reads %v", got)
			}
			l = asMap(t, s.ok("kvguest", op("kv.list", m{"options": m{"prefix": "ttl"}})))
			if len(l["keys"].([]any)) != 0 {
				t.Fatalf("expired key listed: %v", l)
			}
			s.clock.advance(300 * time.Second)
			if got := s.ok("kvguest", op("kv.get", m{"key": "abs"})); got != nil {
				t.Fatalf("expired key reads %v", got)
			}
		})

		t.Run("paging 10000 keys", func(t *testing.T) {
			s := s.with(t)
			if testing.Short() {
				t.Skip("writes 10,000 keys")
			}
			s.ok("kvguest", op("kv.fill", m{"prefix": "page:", "count": 10_000}))
			s.ok("kvguest", op("kv.put", m{"key": "pagf", "text": "outside the prefix"}))
			got := asMap(t, s.ok("kvguest", op("kv.listAll", m{"prefix": "page:", "limit": 1000})))
			want := m{"count": 10_000.0, "pages": 10.0, "first": "page:000000", "last": "page:009999", "sorted": true, "metadataOK": true}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("listAll = %v, want %v", got, want)
			}
			// The default page is 1000 keys; a page of 7 pages through too.
			got = asMap(t, s.ok("kvguest", op("kv.listAll", m{"prefix": "page:00001"})))
			if got["count"] != 10.0 || got["pages"] != 1.0 {
				t.Fatalf("listAll page:00001 = %v", got)
			}
			got = asMap(t, s.ok("kvguest", op("kv.listAll", m{"prefix": "page:0001", "limit": 7})))
			if got["count"] != 100.0 || got["pages"] != 15.0 || got["sorted"] != true {
				t.Fatalf("listAll by 7 = %v", got)
			}
		})
	})
}

// TestKVIsolation: a service reaches only the namespaces its manifest
// binds; a private namespace is its own; a named one is shared only by
// services that both name it.
func TestKVIsolation(t *testing.T) {
	forEachRunner(t, func(t *testing.T, s *suite) {
		s.deploy("alpha", "[[kv_namespaces]]\nbinding = \"DATA\"\n\n[[kv_namespaces]]\nbinding = \"SHARED\"\nid = \"catalog\"\n")
		s.deploy("beta", "[[kv_namespaces]]\nbinding = \"DATA\"\n\n[[kv_namespaces]]\nbinding = \"CAT\"\nid = \"catalog\"\n")
		s.deploy("gamma", "[[kv_namespaces]]\nbinding = \"SHARED\"\n") // same binding name, no id: private
		s.ok("alpha", m{"op": "kv.put", "binding": "DATA", "key": "secret", "text": "alpha's"})
		s.ok("alpha", m{"op": "kv.put", "binding": "SHARED", "key": "item", "text": "shared"})
		s.ok("gamma", m{"op": "kv.put", "binding": "SHARED", "key": "item", "text": "gamma's own"})

		// beta sees its own DATA, empty, and the catalog through its CAT.
		if got := s.ok("beta", m{"op": "kv.get", "binding": "DATA", "key": "secret"}); got != nil {
			t.Fatalf("beta reads alpha's private key: %v", got)
		}
		if got := s.ok("beta", m{"op": "kv.get", "binding": "CAT", "key": "item"}); got != "shared" {
			t.Fatalf("beta's CAT = %v, want the shared catalog", got)
		}
		if got := s.ok("gamma", m{"op": "kv.get", "binding": "SHARED", "key": "item"}); got != "gamma's own" {
			t.Fatalf("gamma's private SHARED = %v", got)
		}
		// No binding name reaches another service's data: beta's env holds
		// only what its manifest lists, and every name it has is checked.
		keys := s.ok("beta", m{"op": "env.keys"})
		if fmt.Sprint(keys) != "[CAT DATA]" {
			t.Fatalf("beta's env: %v", keys)
		}
		for _, name := range []string{"DATA", "CAT"} {
			l := asMap(t, s.ok("beta", m{"op": "kv.list", "binding": name}))
			for _, k := range l["keys"].([]any) {
				if k.(map[string]any)["name"] == "secret" {
					t.Fatalf("beta's %s lists alpha's private key", name)
				}
			}
		}
		// Keys that look like another namespace's subjects stay keys.
		for _, key := range []string{"p.alpha.DATA.secret", "$KV.wisp-kv.p.alpha.DATA.73.65.63.72.65.74._", "../alpha/DATA/secret", "*", ">"} {
			if got := s.ok("beta", m{"op": "kv.get", "binding": "DATA", "key": key}); got != nil {
				t.Fatalf("key %q reads %v", key, got)
			}
		}
		if got := s.ok("alpha", m{"op": "kv.get", "binding": "DATA", "key": "secret"}); got != "alpha's" {
			t.Fatalf("alpha lost its key: %v", got)
		}
	})
}
