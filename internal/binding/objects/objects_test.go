package objects_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/binding/objects"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

var ctx = context.Background()

func open(t testing.TB) (*objects.Store, *blob.Store) {
	t.Helper()
	st := storetest.Open(t)
	b, err := blob.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	s, err := objects.Open(ctx, st, b)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// owned is the sweeper's liveness check for blobs of s's objects.
func owned(s *objects.Store) func(context.Context, string, string) (bool, error) {
	return func(ctx context.Context, owner, id string) (bool, error) {
		stream, subject, _ := strings.Cut(owner, " ")
		if stream != s.Records().Name() {
			return true, nil
		}
		return s.LiveBlob(ctx, subject, id)
	}
}

func put(t testing.TB, b *objects.Bucket, key, body string, o binding.ObjectPutOptions) *binding.ObjectInfo {
	t.Helper()
	info, err := b.Put(ctx, key, strings.NewReader(body), o)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return info
}

func get(t testing.TB, b *objects.Bucket, key string, o binding.ObjectGetOptions) (*binding.Object, string) {
	t.Helper()
	obj, err := b.Get(ctx, key, o)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	if obj == nil {
		return nil, ""
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return obj, string(body)
}

func TestPutGetHeadDelete(t *testing.T) {
	s, blobs := open(t)
	b, _ := s.Private("shop", "PHOTOS")
	opts := binding.ObjectPutOptions{
		ContentType:    "image/png",
		CustomMetadata: map[string]string{"sku": "bike-city"},
		HTTPMetadata:   binding.HTTPMetadata{CacheControl: "max-age=60", ContentLanguage: "en"},
	}
	info := put(t, b, "photos/bike.png", "PNGDATA", opts)
	if info.Size != 7 || info.ETag != fmt.Sprintf("%x", md5.Sum([]byte("PNGDATA"))) || info.Version == "" || info.Uploaded.IsZero() {
		t.Fatalf("put info %+v", info)
	}
	obj, body := get(t, b, "photos/bike.png", binding.ObjectGetOptions{})
	if body != "PNGDATA" || obj.ContentType != "image/png" || obj.CustomMetadata["sku"] != "bike-city" ||
		obj.CacheControl != "max-age=60" || obj.ContentLanguage != "en" || obj.ETag != info.ETag || obj.RangeLength != 7 {
		t.Fatalf("get %+v %q", obj, body)
	}
	h, err := b.Head(ctx, "photos/bike.png")
	if err != nil || h.Version != info.Version || h.Size != 7 {
		t.Fatalf("head %+v %v", h, err)
	}
	// Overwriting replaces the blob: the old one is gone at once.
	info2 := put(t, b, "photos/bike.png", "NEW", binding.ObjectPutOptions{})
	if info2.Version == info.Version {
		t.Fatal("version unchanged by a put")
	}
	if n, err := blobs.Sweep(ctx, 0, owned(s)); err != nil || n != 0 {
		t.Fatalf("overwrite left %d orphan blobs (%v)", n, err)
	}
	if err := b.Delete(ctx, "photos/bike.png", "never-existed"); err != nil {
		t.Fatal(err)
	}
	if obj, _ := get(t, b, "photos/bike.png", binding.ObjectGetOptions{}); obj != nil {
		t.Fatal("deleted object returned")
	}
	if h, err := b.Head(ctx, "photos/bike.png"); h != nil || err != nil {
		t.Fatalf("head after delete %+v %v", h, err)
	}
	if n, err := blobs.Sweep(ctx, 0, owned(s)); err != nil || n != 0 {
		t.Fatalf("delete left %d orphan blobs (%v)", n, err)
	}
}

func TestRanges(t *testing.T) {
	s, _ := open(t)
	b, _ := s.Named("ranges")
	put(t, b, "k", "0123456789", binding.ObjectPutOptions{})
	for _, tc := range []struct {
		o    binding.ObjectGetOptions
		want string
	}{
		{binding.ObjectGetOptions{RangeOffset: 2, RangeLength: 3}, "234"},
		{binding.ObjectGetOptions{RangeOffset: 7}, "789"},
		{binding.ObjectGetOptions{RangeOffset: 8, RangeLength: 100}, "89"},
		{binding.ObjectGetOptions{RangeSuffix: 4}, "6789"},
		{binding.ObjectGetOptions{RangeSuffix: 40}, "0123456789"},
		{binding.ObjectGetOptions{RangeOffset: 10}, ""},
	} {
		if _, got := get(t, b, "k", tc.o); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
	_, err := b.Get(ctx, "k", binding.ObjectGetOptions{RangeOffset: 11})
	if err == nil || err.Error() != "get: The requested range is not satisfiable (10039)" {
		t.Fatalf("range past the end: %v", err)
	}
}

func TestInvalidCallsAreRefusedAsOnR2(t *testing.T) {
	s, _ := open(t)
	b, _ := s.Private("svc", "B")
	big := map[string]string{"k": strings.Repeat("v", 2048)}
	for _, tc := range []struct {
		name        string
		call        func() error
		expectedErr string
	}{
		{"empty key", func() error { _, err := b.Put(ctx, "", nil, binding.ObjectPutOptions{}); return err }, "put: The specified object name is not valid. (10020)"},
		{"long key", func() error { _, err := b.Head(ctx, strings.Repeat("k", 1025)); return err }, "head: The specified object name is not valid. (10020)"},
		{"metadata", func() error {
			_, err := b.Put(ctx, "k", nil, binding.ObjectPutOptions{CustomMetadata: big})
			return err
		}, "put: Your metadata headers exceed the maximum allowed metadata size. (10012)"},
		{"list limit", func() error { _, err := b.List(ctx, binding.ObjectListOptions{Limit: 1001}); return err }, "list: MaxKeys params must be positive integer <= 1000. (10022)"},
		{"bad md5", func() error {
			_, err := b.Put(ctx, "k", strings.NewReader("x"), binding.ObjectPutOptions{MD5: strings.Repeat("00", 16)})
			return err
		}, "put: The MD5 checksum you specified did not match what we received.\nYou provided a MD5 checksum with value: 00000000000000000000000000000000\nActual MD5 was: 9dd4e461268c8034f5c8564e155c67a6 (10037)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var oe *objects.Error
			if err == nil || err.Error() != tc.expectedErr || !errors.As(err, &oe) {
				t.Fatalf("err = %v\nwant  %s", err, tc.expectedErr)
			}
		})
	}
	l, err := b.List(ctx, binding.ObjectListOptions{})
	if err != nil || len(l.Objects) != 0 {
		t.Fatalf("refused calls stored %+v (%v)", l, err)
	}
}

func TestListDelimiterCursorStartAfter(t *testing.T) {
	s, _ := open(t)
	b, _ := s.Private("svc", "B")
	for _, k := range []string{"a", "img/1.png", "img/2.png", "img/x/3.png", "imgz", "z"} {
		put(t, b, k, k, binding.ObjectPutOptions{})
	}
	var objs, prefixes []string
	o := binding.ObjectListOptions{Delimiter: "/", Limit: 2}
	for pages := 0; ; pages++ {
		l, err := b.List(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, ob := range l.Objects {
			objs = append(objs, ob.Key)
			if ob.Size != int64(len(ob.Key)) {
				t.Fatalf("listed size %d for %q", ob.Size, ob.Key)
			}
		}
		prefixes = append(prefixes, l.DelimitedPrefixes...)
		if !l.Truncated {
			break
		}
		o.Cursor = l.Cursor
	}
	if !slices.Equal(objs, []string{"a", "imgz", "z"}) || !slices.Equal(prefixes, []string{"img/"}) {
		t.Fatalf("objects %q prefixes %q", objs, prefixes)
	}
	l, err := b.List(ctx, binding.ObjectListOptions{Prefix: "img/", StartAfter: "img/1.png"})
	if err != nil || len(l.Objects) != 2 || l.Objects[0].Key != "img/2.png" || l.Truncated {
		t.Fatalf("startAfter: %+v %v", l, err)
	}
}

func TestBucketsAreIsolated(t *testing.T) {
	s, _ := open(t)
	a, _ := s.Private("a", "B")
	other, _ := s.Private("b", "B")
	shared, _ := s.Named("b") // a named bucket called like service b
	put(t, a, "k", "a", binding.ObjectPutOptions{})
	for _, bk := range []*objects.Bucket{other, shared} {
		if obj, _ := get(t, bk, "k", binding.ObjectGetOptions{}); obj != nil {
			t.Fatal("another bucket sees a's object")
		}
		if l, _ := bk.List(ctx, binding.ObjectListOptions{}); len(l.Objects) != 0 {
			t.Fatal("another bucket lists a's object")
		}
	}
}

type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n ^ p.n>>9)
		p.n++
	}
	return len(b), nil
}

// TestHundredMegabyteObjectInBoundedMemory puts and gets a 100 MiB object
// through the Bucket API (what every runtime calls); the process heap
// must grow by far less than the object.
func TestHundredMegabyteObjectInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	s, _ := open(t)
	b, _ := s.Private("svc", "BIG")
	const size = 100 << 20
	const bound = 40 << 20
	tctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var info *binding.ObjectInfo
	var err error
	putPeak := peakHeap(func() {
		info, err = b.Put(tctx, "big.bin", io.LimitReader(&pattern{}, size), binding.ObjectPutOptions{ContentType: "application/octet-stream"})
	})
	if err != nil || info.Size != size {
		t.Fatalf("put: %+v %v", info, err)
	}
	sum := md5.New()
	var n int64
	getPeak := peakHeap(func() {
		var obj *binding.Object
		if obj, err = b.Get(tctx, "big.bin", binding.ObjectGetOptions{}); err != nil {
			return
		}
		defer obj.Body.Close()
		n, err = io.CopyBuffer(sum, obj.Body, make([]byte, 64<<10))
	})
	if err != nil || n != size || fmt.Sprintf("%x", sum.Sum(nil)) != info.ETag {
		t.Fatalf("get: %d bytes, %v", n, err)
	}
	t.Logf("heap growth moving a 100 MiB object: put %d MiB, get %d MiB", putPeak>>20, getPeak>>20)
	if putPeak > bound || getPeak > bound {
		t.Fatalf("heap grew by %d MiB (put) / %d MiB (get); want under %d MiB", putPeak>>20, getPeak>>20, bound>>20)
	}
}

// peakHeap: see package blob's test of the same name.
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
