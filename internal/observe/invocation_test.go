package observe

import "testing"

func TestURLPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://inventory/api/inventory/bike?x=1", "/api/inventory/bike"},
		{"https://a.example.com:8443/p#frag", "/p"},
		{"http://host", "/"},
		{"http://host?q", "/"},
		{"/already/a/path?q=1", "/already/a/path"},
		{"", ""},
	} {
		if got := urlPath(tc.in); got != tc.want {
			t.Errorf("urlPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzURLPath(f *testing.F) {
	for _, s := range []string{"http://h/p?q", "https://a:1/x#y", "/p", "", "://", "http://h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := urlPath(s)
		if len(p) > len(s) {
			t.Fatalf("urlPath(%q) = %q is longer than its input", s, p)
		}
		for i := 0; i < len(p); i++ {
			if p[i] == '?' || p[i] == '#' {
				t.Fatalf("urlPath(%q) = %q keeps a query or fragment", s, p)
			}
		}
	})
}

func TestSkipAndAccepted(t *testing.T) {
	o, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Service("svc", "v1", 128)
	if _, inv := s.Adopt(Skip(t.Context()), nil); inv != nil {
		t.Fatal("a skipped context was observed")
	}
	_, inv := s.Begin(t.Context(), HTTP, "POST", "r1")
	inv.Accepted()
	inv.End()
	if inv.out != outOK {
		t.Fatalf("an accepted invocation ended %s", outcomeNames[inv.out])
	}
	_, inv = s.Begin(t.Context(), HTTP, "POST", "r2")
	inv.End()
	if inv.out != outInvalid {
		t.Fatalf("an invocation ended before the pool ended %s", outcomeNames[inv.out])
	}
}
