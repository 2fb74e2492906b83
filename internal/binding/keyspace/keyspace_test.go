package keyspace_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wisp-run/wisp/internal/binding/keyspace"
	"github.com/wisp-run/wisp/internal/poll"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func open(t testing.TB) *keyspace.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := keyspace.Open(ctx, storetest.Open(t), "test-records")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func space(t testing.TB, s *keyspace.Stream, tokens ...string) *keyspace.Space {
	t.Helper()
	sp, err := s.Space(tokens...)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func put(t testing.TB, sp *keyspace.Space, key, body string) uint64 {
	t.Helper()
	seq, err := sp.Put(context.Background(), key, nil, []byte(body), keyspace.PutOptions{})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return seq
}

// listAll pages through everything under prefix, limit at a time.
func listAll(t testing.TB, sp *keyspace.Space, prefix, delim string, limit int) (keys []string, pages int) {
	t.Helper()
	o := keyspace.PageOptions{Prefix: prefix, Limit: limit, Delimiter: delim}
	for {
		p, err := sp.Page(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range p.Items {
			k := it.Key
			if it.Group {
				k = "group:" + k
			}
			keys = append(keys, k)
		}
		if !p.More {
			return keys, pages
		}
		if len(p.Items) != limit {
			t.Fatalf("page %d has %d items and more to come; want %d", pages, len(p.Items), limit)
		}
		after, group, err := keyspace.ParseCursor(keyspace.Cursor(p.Items[len(p.Items)-1]))
		if err != nil {
			t.Fatal(err)
		}
		o.After, o.AfterGroup = after, group
	}
}

func TestSpacesAreIsolated(t *testing.T) {
	s := open(t)
	a := space(t, s, "p", "a", "DATA")
	b := space(t, s, "p", "b", "DATA")
	// Keys that look like subjects, wildcards or another space's tokens
	// stay inside their space.
	keys := []string{"x", "p.b.DATA.x", ">", "*", "..", "b/DATA", "$KV.test-records.p.b.DATA.78._", "78._", "\x00", "日本"}
	for _, k := range keys {
		put(t, a, k, "from a")
	}
	ctx := context.Background()
	for _, k := range keys {
		if r, err := b.Get(ctx, k); err != nil || r != nil {
			t.Fatalf("space b sees a's key %q: %v %v", k, r, err)
		}
		r, err := a.Get(ctx, k)
		if err != nil || r == nil || string(r.Body) != "from a" || r.Key != k {
			t.Fatalf("space a lost %q: %+v %v", k, r, err)
		}
	}
	if got, _ := listAll(t, b, "", "", 1000); len(got) != 0 {
		t.Fatalf("space b lists a's keys: %q", got)
	}
	got, _ := listAll(t, a, "", "", 3)
	want := slices.Clone(keys)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("a lists %q, want %q", got, want)
	}
	for _, bad := range []string{"", "a.b", "*", ">", "a b"} {
		if _, err := s.Space("p", bad); err == nil {
			t.Errorf("space token %q accepted", bad)
		}
	}
}

func TestPagingOrderAndPrefixes(t *testing.T) {
	s := open(t)
	sp := space(t, s, "n", "paging")
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "/", "é", "z", "日", "\x7f", "A", "0", "~"}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 600 {
		var b strings.Builder
		for range 1 + rnd.IntN(6) {
			b.WriteString(alphabet[rnd.IntN(len(alphabet))])
		}
		if k := b.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < len(keys); j += 8 {
				put(t, sp, keys[j], keys[j])
			}
		}()
	}
	wg.Wait()
	sorted := slices.Clone(keys)
	sort.Strings(sorted) // Go compares strings by bytes: UTF-8 byte order
	for _, limit := range []int{1, 7, 100, 1000} {
		got, _ := listAll(t, sp, "", "", limit)
		if !slices.Equal(got, sorted) {
			t.Fatalf("limit %d: listing differs from byte order", limit)
		}
	}
	for _, prefix := range []string{"a", "é", "日/", "zz", "nothing-here"} {
		var want []string
		for _, k := range sorted {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		got, _ := listAll(t, sp, prefix, "", 5)
		if !slices.Equal(got, want) {
			t.Fatalf("prefix %q: got %d keys, want %d", prefix, len(got), len(want))
		}
	}
}

func TestDelimiterGroups(t *testing.T) {
	s := open(t)
	sp := space(t, s, "o", "photos")
	for _, k := range []string{"a.jpg", "dir/1", "dir/2", "dir/sub/3", "dir0", "e/x", "z"} {
		put(t, sp, k, "x")
	}
	got, _ := listAll(t, sp, "", "/", 1)
	want := []string{"a.jpg", "group:dir/", "dir0", "group:e/", "z"}
	if !slices.Equal(got, want) {
		t.Fatalf("delimited listing %q, want %q", got, want)
	}
	got, _ = listAll(t, sp, "dir/", "/", 2)
	want = []string{"dir/1", "dir/2", "group:dir/sub/"}
	if !slices.Equal(got, want) {
		t.Fatalf("delimited listing under dir/ %q, want %q", got, want)
	}
}

func TestTenThousandKeysPageWithBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 records")
	}
	s := open(t)
	sp := space(t, s, "n", "big")
	const n = 10_000
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				put(t, sp, fmt.Sprintf("key-%05d", i), "v")
			}
		}()
	}
	wg.Wait()
	got, pages := listAll(t, sp, "", "", 1000)
	if len(got) != n || pages != n/1000 {
		t.Fatalf("listed %d keys in %d pages, want %d in %d", len(got), pages, n, n/1000)
	}
	for i, k := range got {
		if k != fmt.Sprintf("key-%05d", i) {
			t.Fatalf("key %d is %q", i, k)
		}
	}
}

func TestConditionalPutAndDelete(t *testing.T) {
	s := open(t)
	sp := space(t, s, "n", "cas")
	ctx := context.Background()
	zero := uint64(0)
	seq, err := sp.Put(ctx, "k", nil, []byte("1"), keyspace.PutOptions{IfSeq: &zero})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Put(ctx, "k", nil, []byte("2"), keyspace.PutOptions{IfSeq: &zero}); !errors.Is(err, keyspace.ErrConflict) {
		t.Fatalf("create over an existing record: %v", err)
	}
	seq2, err := sp.Put(ctx, "k", nats.Header{"Wisp-Test": {"yes"}}, []byte("2"), keyspace.PutOptions{IfSeq: &seq})
	if err != nil {
		t.Fatal(err)
	}
	// A delete bounded by the old sequence leaves the newer record.
	if err := sp.Delete(ctx, "k", seq); err != nil {
		t.Fatal(err)
	}
	r, err := sp.Get(ctx, "k")
	if err != nil || r == nil || string(r.Body) != "2" || r.Header.Get("Wisp-Test") != "yes" || r.Seq != seq2 {
		t.Fatalf("newer record lost: %+v %v", r, err)
	}
	if err := sp.Delete(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	if r, err := sp.Get(ctx, "k"); err != nil || r != nil {
		t.Fatalf("deleted record still there: %+v %v", r, err)
	}
}

func TestTTLRemovesRecord(t *testing.T) {
	s := open(t)
	sp := space(t, s, "n", "ttl")
	ctx := context.Background()
	if _, err := sp.Put(ctx, "short", nil, []byte("x"), keyspace.PutOptions{TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	put(t, sp, "forever", "y")
	poll.CheckFor(t, 15*time.Second, 100*time.Millisecond, func() error {
		r, err := sp.Get(ctx, "short")
		if err != nil {
			return err
		}
		if r != nil {
			return errors.New("record with a 1s TTL still stored")
		}
		return nil
	})
	if got, _ := listAll(t, sp, "", "", 10); !slices.Equal(got, []string{"forever"}) {
		t.Fatalf("after expiry: %q", got)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st := storetest.OpenDir(t, dir)
	s, err := keyspace.Open(ctx, st, "test-records")
	if err != nil {
		t.Fatal(err)
	}
	put(t, space(t, s, "n", "keep"), "k", "v")
	st.Close()
	s, err = keyspace.Open(ctx, storetest.OpenDir(t, dir), "test-records")
	if err != nil {
		t.Fatal(err)
	}
	r, err := space(t, s, "n", "keep").Get(ctx, "k")
	if err != nil || r == nil || string(r.Body) != "v" {
		t.Fatalf("after reopen: %+v %v", r, err)
	}
}

func TestBadCursors(t *testing.T) {
	for _, c := range []string{"", "!!", "eA", "cXg"} {
		if _, _, err := keyspace.ParseCursor(c); !errors.Is(err, keyspace.ErrBadCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}
