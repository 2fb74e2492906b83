package conformance

import (
	"crypto/md5"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	forEachRunner(t, func(t *testing.T, s *suite) {
		s.deploy("objguest", "[[buckets]]\nbinding = \"PHOTOS\"\n\n[[r2_buckets]]\nbinding = \"R2\"\nbucket_name = \"shared-media\"\n")
		op := func(name string, fields m) m {
			f := m{"op": name, "binding": "PHOTOS"}
			for k, v := range fields {
				f[k] = v
			}
			return f
		}
		t.Run("put get head delete", func(t *testing.T) {
			s := s.with(t)
			put := asMap(t, s.ok("objguest", op("obj.put", m{"key": "bikes/city.svg", "text": "<svg/>", "options": m{
				"httpMetadata":   m{"contentType": "image/svg+xml", "cacheControl": "max-age=60", "cacheExpiry": 1900000000000},
				"customMetadata": m{"sku": "bike-city"},
			}})))
			etag := fmt.Sprintf("%x", md5.Sum([]byte("<svg/>")))
			if put["size"] != 6.0 || put["etag"] != etag || put["httpEtag"] != `"`+etag+`"` || put["md5"] != etag || put["version"] == "" {
				t.Fatalf("put = %v", put)
			}
			wantHTTP := m{"contentType": "image/svg+xml", "cacheControl": "max-age=60", "cacheExpiry": 1900000000000.0}
			if !reflect.DeepEqual(put["httpMetadata"], wantHTTP) || !reflect.DeepEqual(put["customMetadata"], m{"sku": "bike-city"}) {
				t.Fatalf("put metadata = %v %v", put["httpMetadata"], put["customMetadata"])
			}
			wantWritten := m{"content-type": "image/svg+xml", "cache-control": "max-age=60", "expires": "Sun, 17 Mar 2030 17:46:40 GMT"}
			if !reflect.DeepEqual(put["written"], wantWritten) {
				t.Fatalf("writeHttpMetadata wrote %v", put["written"])
			}
			got := asMap(t, s.ok("objguest", op("obj.get", m{"key": "bikes/city.svg"})))
			if got["body"] != "<svg/>" || got["etag"] != etag || got["version"] != put["version"] || !reflect.DeepEqual(got["range"], m{"offset": 0.0, "length": 6.0}) {
				t.Fatalf("get = %v", got)
			}
			head := asMap(t, s.ok("objguest", op("obj.head", m{"key": "bikes/city.svg"})))
			if head["size"] != 6.0 || head["body"] != nil || !reflect.DeepEqual(head["customMetadata"], m{"sku": "bike-city"}) {
				t.Fatalf("head = %v", head)
			}
			got = asMap(t, s.ok("objguest", op("obj.get", m{"key": "bikes/city.svg", "as": "hex"})))
			if got["body"].(map[string]any)["hex"] != "3c7376672f3e" {
				t.Fatalf("get as bytes = %v", got["body"])
			}
			if v := s.ok("objguest", op("obj.get", m{"key": "nothing"})); v != nil {
				t.Fatalf("absent object = %v", v)
			}
			s.ok("objguest", op("obj.put", m{"key": "empty", "null": true}))
			if got := asMap(t, s.ok("objguest", op("obj.get", m{"key": "empty"}))); got["size"] != 0.0 || got["body"] != "" {
				t.Fatalf("null put = %v", got)
			}
			s.ok("objguest", op("obj.delete", m{"keys": []string{"bikes/city.svg", "empty", "never-there"}}))
			if v := s.ok("objguest", op("obj.head", m{"key": "bikes/city.svg"})); v != nil {
				t.Fatalf("deleted object = %v", v)
			}
		})

		t.Run("ranges", func(t *testing.T) {
			s := s.with(t)
			s.ok("objguest", op("obj.put", m{"key": "digits", "text": "0123456789"}))
			for _, tc := range []struct {
				rng  m
				want string
			}{
				{m{"offset": 2, "length": 3}, "234"},
				{m{"offset": 7}, "789"},
				{m{"suffix": 4}, "6789"},
			} {
				got := asMap(t, s.ok("objguest", op("obj.get", m{"key": "digits", "options": m{"range": tc.rng}})))
				if got["body"] != tc.want {
					t.Errorf("range %v = %v", tc.rng, got["body"])
				}
			}
			s.fails("objguest", op("obj.get", m{"key": "digits", "options": m{"range": m{"offset": 11}}}), "get: The requested range is not satisfiable (10039)")
		})

		t.Run("list", func(t *testing.T) {
			s := s.with(t)
			for _, k := range []string{"a.txt", "img/1.png", "img/2.png", "img/sub/3.png", "imgz"} {
				s.ok("objguest", op("obj.put", m{"key": "l/" + k, "text": k, "options": m{"customMetadata": m{"k": k}}}))
			}
			var keys, prefixes []string
			var cursor any
			pages := 0
			for {
				o := m{"prefix": "l/", "delimiter": "/", "limit": 1}
				if cursor != nil {
					o["cursor"] = cursor
				}
				l := asMap(t, s.ok("objguest", op("obj.list", m{"options": o})))
				pages++
				for _, ob := range l["objects"].([]any) {
					obm := ob.(map[string]any)
					keys = append(keys, obm["key"].(string))
					if obm["customMetadata"] != nil {
						t.Fatalf("customMetadata listed without include: %v", obm)
					}
				}
				for _, p := range l["delimitedPrefixes"].([]any) {
					prefixes = append(prefixes, p.(string))
				}
				if l["truncated"] != true {
					break
				}
				cursor = l["cursor"]
			}
			if fmt.Sprint(keys) != "[l/a.txt l/imgz]" || fmt.Sprint(prefixes) != "[l/img/]" || pages != 3 {
				t.Fatalf("delimited listing: %v %v in %d pages", keys, prefixes, pages)
			}
			l := asMap(t, s.ok("objguest", op("obj.list", m{"options": m{"prefix": "l/img/", "startAfter": "l/img/1.png", "include": []string{"customMetadata"}}})))
			objs := l["objects"].([]any)
			if len(objs) != 2 || objs[0].(map[string]any)["key"] != "l/img/2.png" || !reflect.DeepEqual(objs[0].(map[string]any)["customMetadata"], m{"k": "img/2.png"}) {
				t.Fatalf("startAfter + include: %v", l)
			}
			s.fails("objguest", op("obj.list", m{"options": m{"limit": 1001}}), "list: MaxKeys params must be positive integer <= 1000. (10022)")
		})

		t.Run("limits", func(t *testing.T) {
			s := s.with(t)
			s.fails("objguest", op("obj.put", m{"key": strings.Repeat("k", 1025), "text": "x"}), "put: The specified object name is not valid. (10020)")
			s.fails("objguest", op("obj.put", m{"key": "k", "text": "x", "options": m{"customMetadata": m{"big": strings.Repeat("v", 2048)}}}), "put: Your metadata headers exceed the maximum allowed metadata size. (10012)")
			s.fails("objguest", op("obj.put", m{"key": "k", "text": "x", "options": m{"md5": strings.Repeat("0", 32)}}), "put: The MD5 checksum you specified did not match what we received.")
			s.fails("objguest", op("obj.put", m{"key": "k", "text": "x", "options": m{"onlyIf": m{"etagMatches": "x"}}}), "put: onlyIf is not supported by wisp buckets yet")
			if v := s.ok("objguest", op("obj.head", m{"key": "k"})); v != nil {
				t.Fatalf("a refused put stored %v", v)
			}
		})

		t.Run("isolation", func(t *testing.T) {
			s := s.with(t)
			s.deploy("objother", "[[buckets]]\nbinding = \"PHOTOS\"\n\n[[buckets]]\nbinding = \"MEDIA\"\nbucket_name = \"shared-media\"\n")
			s.ok("objguest", op("obj.put", m{"key": "mine", "text": "private"}))
			s.ok("objguest", m{"op": "obj.put", "binding": "R2", "key": "ours", "text": "shared"})
			if v := s.ok("objother", op("obj.get", m{"key": "mine"})); v != nil {
				t.Fatalf("another service's PHOTOS reads the first's object: %v", v)
			}
			if l := asMap(t, s.ok("objother", op("obj.list", m{}))); len(l["objects"].([]any)) != 0 {
				t.Fatalf("another service's PHOTOS lists %v", l)
			}
			if v := asMap(t, s.ok("objother", m{"op": "obj.get", "binding": "MEDIA", "key": "ours"})); v["body"] != "shared" {
				t.Fatalf("named bucket not shared: %v", v)
			}
		})

		t.Run("100 MiB streamed", func(t *testing.T) {
			if testing.Short() {
				t.Skip("moves 200 MiB")
			}
			s := s.with(t)
			const size = 100 << 20
			const bound = 64 << 20
			var v any
			var errMsg string
			putPeak := peakHeap(func() { v, errMsg = s.rpc("objguest", op("obj.putGenerated", m{"key": "big.bin", "size": size})) })
			if errMsg != "" {
				t.Fatal(errMsg)
			}
			// The guest's generated object: 64 KiB chunks, chunk k all
			// bytes (k*7+1)&255; the sample adds every 4096th byte.
			sum := md5.New()
			chunk := make([]byte, 64<<10)
			sample := 0
			for k := 0; k*len(chunk) < size; k++ {
				for i := range chunk {
					chunk[i] = byte(k*7 + 1)
				}
				sum.Write(chunk)
				sample = (sample + 16*int(chunk[0])) % 1000003
			}
			if put := asMap(t, v); put["size"] != float64(size) || put["etag"] != fmt.Sprintf("%x", sum.Sum(nil)) {
				t.Fatalf("streamed put = %v", put)
			}
			getPeak := peakHeap(func() { v, errMsg = s.rpc("objguest", op("obj.readCount", m{"key": "big.bin"})) })
			if errMsg != "" {
				t.Fatal(errMsg)
			}
			got := asMap(t, v)
			if got["bytes"] != float64(size) || got["sample"] != float64(sample) {
				t.Fatalf("streamed read = %v", v)
			}
			t.Logf("heap growth streaming 100 MiB through the guest: put %d MiB, get %d MiB (read via %v)", putPeak>>20, getPeak>>20, got["via"])
			if putPeak > bound || getPeak > bound {
				t.Fatalf("heap grew by %d / %d MiB; want under %d MiB", putPeak>>20, getPeak>>20, bound>>20)
			}
		})
	})
}

// peakHeap samples the heap while fn runs and returns its largest growth,
// with the collector at 10% so that garbage does not count.
func peakHeap(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}
