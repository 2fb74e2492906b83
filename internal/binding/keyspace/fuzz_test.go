package keyspace

import (
	"strings"
	"testing"
)

// FuzzKeyEncoding checks that every key round-trips through its subject
// form, that the form is one subject token per byte plus the terminator
// (no '.', '*', '>' or space can leak in), and that a prefix's filter
// matches exactly the keys that start with it.
func FuzzKeyEncoding(f *testing.F) {
	for _, s := range []string{"a", "..", "*", ">", "a.b", "日本", "\x00\xff", "$KV.x.>"} {
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, key, prefix string) {
		if checkKey(key) != nil {
			return
		}
		var b strings.Builder
		encodeKey(&b, key)
		enc := b.String()
		toks := strings.Split(enc, ".")
		if len(toks) != len(key)+1 || toks[len(toks)-1] != terminator {
			t.Fatalf("%q encodes to %q: want one token per byte and a terminator", key, enc)
		}
		for _, tok := range toks[:len(toks)-1] {
			if len(tok) != 2 || strings.ContainsAny(tok, "*> \t\r\n") {
				t.Fatalf("%q encodes to bad token %q", key, tok)
			}
		}
		got, err := decodeKey(enc)
		if err != nil || got != key {
			t.Fatalf("decode(encode(%q)) = %q, %v", key, got, err)
		}
		var pb strings.Builder
		encodePrefix(&pb, prefix)
		filter := strings.TrimSuffix(pb.String(), ">")
		if strings.HasPrefix(enc, filter) != strings.HasPrefix(key, prefix) {
			t.Fatalf("prefix %q filter %q vs key %q (%q) disagree", prefix, filter, key, enc)
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	f.Add("61.62._")
	f.Add("6.1._")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := decodeKey(s)
		if err != nil {
			return
		}
		var b strings.Builder
		encodeKey(&b, key)
		if b.String() != s {
			t.Fatalf("decode accepted %q, which is not the encoding of %q (%q)", s, key, b.String())
		}
	})
}
