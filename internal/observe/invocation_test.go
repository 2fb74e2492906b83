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
