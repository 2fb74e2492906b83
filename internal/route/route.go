package route

import (
	"fmt"
	"strings"
)

// Pattern is one parsed route from a manifest.
//
//	/api/cart            exactly that path, on any host
//	/api/cart/*          /api/cart and every path below it, on any host
//	/*                   every path on any host
//	shop.example.com/*   every path on that host
//	*.example.com/api/*  /api and below on every subdomain of example.com
type Pattern struct {
	Host   string // lowercase; "" means any host; "*.example.com" matches subdomains
	Path   string // without the trailing "/*"; "" for the root prefix "/*"
	Prefix bool   // the route ended in "/*"
}

// Parse validates and parses one route.
func Parse(s string) (Pattern, error) {
	var p Pattern
	if s == "" {
		return p, fmt.Errorf("route is empty")
	}
	if strings.Contains(s, "://") {
		return p, fmt.Errorf("route %q must not include a scheme; write %q", s, s[strings.Index(s, "://")+3:])
	}
	path := s
	if !strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return p, fmt.Errorf("route %q has no path; write %q to take every path on that host", s, s+"/*")
		}
		host, err := parseHost(s[:i])
		if err != nil {
			return p, fmt.Errorf("route %q: %w", s, err)
		}
		p.Host, path = host, s[i:]
	}
	if strings.HasSuffix(path, "/*") {
		p.Prefix = true
		path = strings.TrimSuffix(path, "/*")
	}
	if err := checkPath(path, p.Prefix); err != nil {
		return p, fmt.Errorf("route %q: %w", s, err)
	}
	p.Path = path
	return p, nil
}

func parseHost(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("host is empty")
	}
	if strings.ContainsRune(h, ':') {
		return "", fmt.Errorf("host %q must not include a port (routes match any port)", h)
	}
	h = strings.ToLower(h)
	name := strings.TrimPrefix(h, "*.")
	if name == "" {
		return "", fmt.Errorf("host %q has nothing after the wildcard", h)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return "", fmt.Errorf("host %q has an empty label", h)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c == '*' {
					return "", fmt.Errorf("host %q: a wildcard is only allowed as a leading \"*.\"", h)
				}
				return "", fmt.Errorf("host %q has invalid character %q", h, c)
			}
		}
	}
	return h, nil
}

func checkPath(path string, prefix bool) error {
	if path == "" {
		if prefix {
			return nil
		}
		return fmt.Errorf("path is empty")
	}
	if path[0] != '/' {
		return fmt.Errorf("path must start with \"/\"")
	}
	if strings.Contains(path, "*") {
		return fmt.Errorf("a wildcard is only allowed as the final \"/*\"")
	}
	for _, c := range path {
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '\\' || c > 0x7e {
			return fmt.Errorf("path has invalid character %q (percent-encode it)", c)
		}
	}
	segs := strings.Split(path[1:], "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return fmt.Errorf("path has an empty segment (\"//\")")
		case seg == "" && prefix:
			return fmt.Errorf("path must not end in \"/\" before \"/*\"")
		case seg == "." || seg == "..":
			return fmt.Errorf("path must not contain %q segments", seg)
		}
	}
	return nil
}

// String gives the route back in its canonical spelling.
func (p Pattern) String() string {
	s := p.Host + p.Path
	if p.Prefix {
		s += "/*"
	}
	return s
}

// Key identifies the route for collision checks: two patterns with the same
// Key would take the same requests.
func (p Pattern) Key() string { return p.String() }
