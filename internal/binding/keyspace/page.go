package keyspace

import (
	"container/heap"
	"context"
	"encoding/base64"
	"errors"
	"strings"
)

// PageOptions select one page of keys in UTF-8 byte order.
type PageOptions struct {
	Prefix string // only keys starting with Prefix
	// After resumes a listing: only keys sorting after it. With
	// AfterGroup, After was a delimited group and every key under it is
	// skipped too.
	After      string
	AfterGroup bool
	Limit      int // items per page, at least 1
	// Delimiter, when set, rolls up every key that has Delimiter after
	// Prefix into one group item: the key up to and including the first
	// such Delimiter (R2's delimitedPrefixes).
	Delimiter string
	// Keep, when set, drops records for which it returns false (expired
	// ones, for example) before they count toward the page.
	Keep func(Entry) bool
}

// Item is one key, or one group of keys, on a page.
type Item struct {
	Key   string // the key, or the group's common prefix
	Group bool
	Entry Entry // for a key: its record's headers
}

// Page is one page of a listing.
type Page struct {
	Items []Item
	// More reports whether items follow this page; Cursor resumes after
	// it (see Cursor and ParseCursor).
	More bool
}

// Page lists the smallest Limit items after o.After, in byte order. It
// streams every record under o.Prefix once and keeps only Limit+1 items in
// memory. A scan that lost deliveries (ErrScanGap) is made again, up to
// three times in all: a page is never built from an incomplete scan.
func (sp *Space) Page(ctx context.Context, o PageOptions) (*Page, error) {
	if o.Limit < 1 {
		return nil, errors.New("a page holds at least one item")
	}
	for attempt := 1; ; attempt++ {
		p, err := sp.page(ctx, o)
		if errors.Is(err, ErrScanGap) && attempt < 3 {
			continue
		}
		return p, err
	}
}

func (sp *Space) page(ctx context.Context, o PageOptions) (*Page, error) {
	h := &itemHeap{in: map[string]bool{}}
	err := sp.Scan(ctx, o.Prefix, func(e Entry) error {
		if o.After != "" && (e.Key <= o.After || (o.AfterGroup && strings.HasPrefix(e.Key, o.After))) {
			return nil
		}
		if o.Keep != nil && !o.Keep(e) {
			return nil
		}
		it := Item{Key: e.Key, Entry: e}
		if o.Delimiter != "" {
			if i := strings.Index(e.Key[len(o.Prefix):], o.Delimiter); i >= 0 {
				it = Item{Key: e.Key[:len(o.Prefix)+i+len(o.Delimiter)], Group: true}
			}
		}
		h.offer(it, o.Limit+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	items := make([]Item, h.Len())
	for i := len(items) - 1; i >= 0; i-- {
		items[i] = heap.Pop(h).(Item)
	}
	p := &Page{Items: items}
	if len(items) > o.Limit {
		p.Items, p.More = items[:o.Limit], true
	}
	return p, nil
}

// itemHeap is a max-heap by key: the root is the item to evict when a
// smaller one arrives. in holds the keys present, so a group is offered
// once however many keys it holds.
type itemHeap struct {
	items []Item
	in    map[string]bool
}

func (h *itemHeap) Len() int           { return len(h.items) }
func (h *itemHeap) Less(i, j int) bool { return h.items[i].Key > h.items[j].Key }
func (h *itemHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *itemHeap) Push(x any)         { h.items = append(h.items, x.(Item)) }
func (h *itemHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.in, it.Key)
	return it
}

func (h *itemHeap) offer(it Item, capacity int) {
	if h.in[it.Key] {
		return
	}
	if len(h.items) < capacity {
		heap.Push(h, it)
		h.in[it.Key] = true
		return
	}
	if it.Key >= h.items[0].Key {
		return
	}
	heap.Pop(h)
	heap.Push(h, it)
	h.in[it.Key] = true
}

// Cursor encodes the position after item, for ParseCursor.
func Cursor(it Item) string {
	flag := "k"
	if it.Group {
		flag = "g"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(flag + it.Key))
}

// ErrBadCursor means a cursor was not made by Cursor.
var ErrBadCursor = errors.New("invalid cursor")

// ParseCursor decodes a cursor into PageOptions.After and AfterGroup.
func ParseCursor(c string) (after string, group bool, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || (b[0] != 'k' && b[0] != 'g') || len(b)-1 > MaxKeyBytes {
		return "", false, ErrBadCursor
	}
	return string(b[1:]), b[0] == 'g', nil
}
