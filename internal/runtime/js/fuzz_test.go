package js

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeUTF8 always yields valid UTF-8, leaves valid input alone, and
// replaces each maximal invalid subpart by one U+FFFD (never more
// replacements than bytes).
func FuzzDecodeUTF8(f *testing.F) {
	for _, s := range []string{"", "héllo", "a\xffb", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xef\xbb\xbfBOM"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := decodeUTF8(b, false)
		if !utf8.ValidString(out) {
			t.Fatalf("%q decoded to invalid UTF-8 %q", b, out)
		}
		if utf8.Valid(b) && out != string(b) {
			t.Fatalf("valid %q changed to %q", b, out)
		}
		if n := strings.Count(out, "\uFFFD") - strings.Count(string(b), "\uFFFD"); n > len(b) {
			t.Fatalf("%q: %d replacements for %d bytes", b, n, len(b))
		}
	})
}

// A MIME type that parses serializes to a form that parses to itself.
func FuzzParseMIME(f *testing.F) {
	for _, s := range []string{"text/plain", "Text/HTML; Charset=UTF-8", `multipart/form-data; boundary="a b"`, "a/b;c=d;c=e", "x/y; q=\"\\\"\"", "bad", "/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseMIME(s)
		if !ok {
			return
		}
		again, ok := parseMIME(m.String())
		if !ok || again.String() != m.String() {
			t.Fatalf("%q -> %q -> %q (%v)", s, m.String(), again.String(), ok)
		}
	})
}

// The urlencoded parser and serializer round-trip.
func FuzzFormRoundTrip(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a+b=c%20d", "=&&=", "%zz=%", "ü=€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list := formParse(s)
		again := formParse(formSerialize(list))
		if len(again) != len(list) {
			t.Fatalf("%q: %d pairs, then %d", s, len(list), len(again))
		}
		for i := range list {
			if list[i] != again[i] {
				t.Fatalf("%q: pair %d %q became %q", s, i, list[i], again[i])
			}
		}
	})
}
