package gateway

import (
	"net/http"
	"strings"
	"testing"
)

func TestPrefersAsync(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   bool
	}{
		{"absent", nil, false},
		{"exactly", []string{"respond-async"}, true},
		{"case-insensitive", []string{"Respond-Async"}, true},
		{"with others", []string{"return=minimal, respond-async, wait=10"}, true},
		{"second header", []string{"return=minimal", "respond-async"}, true},
		{"spaces", []string{"  respond-async  ;  foo=bar"}, true},
		{"other preference", []string{"return=representation"}, false},
		{"in a quoted value", []string{`foo="respond-async"`}, false},
		{"after a quoted comma", []string{`foo="a,b", respond-async`}, true},
		{"quoted comma hides nothing", []string{`foo="a, respond-async"`}, false},
		{"escaped quote", []string{`foo="a\", respond-async"`}, false},
		{"as a value", []string{"respond-async=1"}, true},
		{"prefix only", []string{"respond-asynchronously"}, false},
		{"as a parameter", []string{"wait=5; respond-async"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Prefer", v)
			}
			if got := PrefersAsync(h); got != tt.want {
				t.Errorf("PrefersAsync(%q) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

func FuzzPrefersAsync(f *testing.F) {
	for _, s := range []string{"respond-async", `a="x,y";b, respond-async;c="\"", wait=1`, `"`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := PrefersAsync(http.Header{"Prefer": {s}})
		// Without quoted strings, appending respond-async makes it true.
		if !strings.Contains(s, `"`) && !PrefersAsync(http.Header{"Prefer": {s + ", respond-async"}}) {
			t.Fatalf("%q + respond-async not seen", s)
		}
		if got != PrefersAsync(http.Header{"Prefer": {s}, "Other": {"x"}}) {
			t.Fatal("unrelated header changed the answer")
		}
	})
}
