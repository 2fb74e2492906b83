package job

import (
	"errors"
	"strings"
	"testing"
)

func TestAllowlist(t *testing.T) {
	a, err := ParseAllowlist([]string{"https://hooks.example.com", "https://*.svc.example.net", "http://127.0.0.1:*", "http://localhost:9000"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url     string
		wantErr string // "" allowed
	}{
		{"https://hooks.example.com/done", ""},
		{"https://HOOKS.example.com:443/x?y=1", ""},
		{"https://hooks.example.com:8443/x", "not on this node's callback allowlist"},
		{"http://hooks.example.com/x", "not on this node's callback allowlist"},
		{"https://a.svc.example.net/x", ""},
		{"https://a.b.svc.example.net/x", ""},
		{"https://svc.example.net/x", "not on this node's callback allowlist"},
		{"https://evilsvc.example.net/x", "not on this node's callback allowlist"},
		{"http://127.0.0.1:1234/cb", ""},
		{"http://127.0.0.1/cb", ""},
		{"http://localhost:9000/", ""},
		{"http://localhost:9001/", "not on this node's callback allowlist"},
		{"ftp://hooks.example.com/", "is not an absolute http or https URL"},
		{"/relative", "is not an absolute http or https URL"},
		{"https://user:pw@hooks.example.com/", "is not an absolute http or https URL"},
		{"::", "is not an absolute http or https URL"},
	}
	for _, tt := range tests {
		err := a.Check(tt.url)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v, want allowed", tt.url, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrCallbackNotAllowed) {
			t.Errorf("Check(%q) = %v, want ErrCallbackNotAllowed containing %q", tt.url, err, tt.wantErr)
		}
	}
	var none *Allowlist
	if err := none.Check("https://hooks.example.com/"); err == nil || !strings.Contains(err.Error(), "allows no callback hosts") {
		t.Errorf("empty allowlist: %v", err)
	}
}

func TestParseAllowlistRefusesBadPatterns(t *testing.T) {
	for _, p := range []string{"hooks.example.com", "ftp://x", "https://x/path", "https://", "https://u@x", "https://x?q=1"} {
		if _, err := ParseAllowlist([]string{p}); err == nil || !strings.Contains(err.Error(), "is not of the form") {
			t.Errorf("ParseAllowlist(%q) = %v, want an error naming the form", p, err)
		}
	}
}

func FuzzAllowlist(f *testing.F) {
	f.Add("https://*.example.com", "https://a.example.com:443/x")
	f.Add("http://127.0.0.1:*", "http://127.0.0.1:8080/cb")
	f.Add("https://hooks.example.com", "https://hooks.example.com.evil.net/")
	f.Fuzz(func(t *testing.T, pattern, u string) {
		a, err := ParseAllowlist([]string{pattern})
		if err != nil {
			return
		}
		if a.Check(u) != nil {
			return
		}
		// Whatever is allowed is an absolute http(s) URL whose host the
		// pattern names, on the pattern's scheme.
		scheme, _, _ := strings.Cut(pattern, "://")
		if !strings.HasPrefix(u, scheme+"://") && !strings.HasPrefix(strings.ToLower(u), scheme+"://") {
			t.Fatalf("%q allowed %q on another scheme", pattern, u)
		}
	})
}
