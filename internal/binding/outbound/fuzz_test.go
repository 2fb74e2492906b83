package outbound

import "testing"

// FuzzParsePattern: no input panics, and a pattern's String parses back
// to the same pattern.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"api.example.com", "*://*.a.b:*", "https://[::1]:8", "http://1.2.3.4", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		q, err := ParsePattern(p.String())
		if err != nil || q != p {
			t.Fatalf("%q → %#v → %q → %#v, %v", s, p, p.String(), q, err)
		}
	})
}
