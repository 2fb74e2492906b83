package blob_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding/blob"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func open(t testing.TB) *blob.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := blob.Open(ctx, storetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func data(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func read(t *testing.T, b *blob.Store, info blob.Info, off, n int64) []byte {
	t.Helper()
	r, err := b.Open(context.Background(), info, off, n)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTripAndRanges(t *testing.T) {
	b := open(t)
	ctx := context.Background()
	for _, n := range []int{0, 1, blob.ChunkSize - 1, blob.ChunkSize, blob.ChunkSize + 1, 3*blob.ChunkSize + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want := data(n)
			info, err := b.Put(ctx, "test owner", bytes.NewReader(want), int64(n))
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(n) || info.MD5 != fmt.Sprintf("%x", md5.Sum(want)) {
				t.Fatalf("info %+v", info)
			}
			if got := read(t, b, *info, 0, -1); !bytes.Equal(got, want) {
				t.Fatalf("read back %d bytes, want %d", len(got), n)
			}
			for _, r := range [][2]int64{{0, 1}, {1, 10}, {int64(n) / 2, -1}, {blob.ChunkSize - 3, 6}, {int64(n), -1}} {
				off, ln := r[0], r[1]
				if off > int64(n) {
					continue
				}
				end := int64(n)
				if ln >= 0 {
					end = min(off+ln, int64(n))
				}
				if got := read(t, b, *info, off, ln); !bytes.Equal(got, want[off:end]) {
					t.Fatalf("range %d+%d: got %d bytes", off, ln, len(got))
				}
			}
		})
	}
}

func TestTooLargeStoresNothing(t *testing.T) {
	b := open(t)
	_, err := b.Put(context.Background(), "o", bytes.NewReader(data(3*blob.ChunkSize)), blob.ChunkSize)
	var tl *blob.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != blob.ChunkSize || tl.Read != 3*blob.ChunkSize {
		t.Fatalf("err = %v", err)
	}
	n, err := b.Sweep(context.Background(), 0, func(context.Context, string, string) (bool, error) { return false, nil })
	if err != nil || n != 0 {
		t.Fatalf("a refused put left %d blobs behind (%v)", n, err)
	}
}

func TestDeleteAndSweep(t *testing.T) {
	b := open(t)
	ctx := context.Background()
	keep, err := b.Put(ctx, "keeper", bytes.NewReader(data(10)), 100)
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := b.Put(ctx, "orphan", bytes.NewReader(data(2*blob.ChunkSize)), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := b.Put(ctx, "deleted", bytes.NewReader(data(10)), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Open(ctx, *gone, 0, -1)
	if _, err := io.ReadAll(r); !errors.Is(err, blob.ErrGone) {
		t.Fatalf("reading a deleted blob: %v", err)
	}
	live := func(_ context.Context, owner, id string) (bool, error) {
		return owner == "keeper" && id == keep.ID, nil
	}
	// Young blobs are left alone: their records may be on their way.
	if n, err := b.Sweep(ctx, time.Hour, live); err != nil || n != 0 {
		t.Fatalf("sweep with a grace of an hour removed %d (%v)", n, err)
	}
	if n, err := b.Sweep(ctx, 0, live); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the orphan", n, err)
	}
	if got := read(t, b, *keep, 0, -1); len(got) != 10 {
		t.Fatal("sweep removed a live blob")
	}
	r, _ = b.Open(ctx, *orphan, 0, -1)
	if _, err := io.ReadAll(r); !errors.Is(err, blob.ErrGone) {
		t.Fatalf("orphan still readable: %v", err)
	}
}

// pattern is an endless deterministic byte stream that costs no memory.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n*7 + p.n>>12)
		p.n++
	}
	return len(b), nil
}

// peakHeap samples the heap while fn runs and returns the largest growth
// over the heap in use before it (after a GC). The collector runs at 10%
// growth meanwhile, so that what is measured is memory held, not garbage
// waiting for a collection (the embedded server's block caches are weak
// references the collector may drop).
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
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// sizeMB sets the size of the blob TestHundredMegabytesInBoundedMemory
// moves, to show that memory does not grow with it:
//
//	go test ./internal/binding/blob -run Hundred -v -args -size-mb 300
var sizeMB = flag.Int("size-mb", 100, "size of the blob the bounded-memory test moves, in MiB")

// TestHundredMegabytesInBoundedMemory streams a 100 MiB blob in and out:
// the heap of the whole process (embedded JetStream included) must grow by
// far less than the blob, and by about as much whatever its size (most of
// it is the server's block caches).
func TestHundredMegabytesInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	b := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	size := int64(*sizeMB) << 20
	const bound = 40 << 20
	var info *blob.Info
	var err error
	putPeak := peakHeap(func() {
		info, err = b.Put(ctx, "big", io.LimitReader(&pattern{}, size), 5<<30)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSum := md5.New()
	io.Copy(wantSum, io.LimitReader(&pattern{}, size))
	if info.Size != size || info.MD5 != fmt.Sprintf("%x", wantSum.Sum(nil)) {
		t.Fatalf("stored %+v", info)
	}
	var n int64
	gotSum := md5.New()
	getPeak := peakHeap(func() {
		var r io.ReadCloser
		if r, err = b.Open(ctx, *info, 0, -1); err != nil {
			return
		}
		defer r.Close()
		n, err = io.CopyBuffer(gotSum, r, make([]byte, 32<<10))
	})
	if err != nil || n != size || fmt.Sprintf("%x", gotSum.Sum(nil)) != info.MD5 {
		t.Fatalf("read back %d bytes (%v), digest match %v", n, err, fmt.Sprintf("%x", gotSum.Sum(nil)) == info.MD5)
	}
	t.Logf("heap growth: put %d MiB, get %d MiB (blob %d MiB)", putPeak>>20, getPeak>>20, size>>20)
	if putPeak > bound || getPeak > bound {
		t.Fatalf("heap grew by %d MiB (put) and %d MiB (get) moving %d MiB; want under %d MiB", putPeak>>20, getPeak>>20, size>>20, bound>>20)
	}
}
