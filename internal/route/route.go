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

// Parse validates and parses one route. A route starts with "/" (any host)
// or with a host name: one with a dot ("shop.example.com"), "localhost", or
// a wildcard "*.example.com". Anything else before the first "/" is taken
// for a path that lacks its leading "/", which is an error.
func Parse(s string) (Pattern, error) {
	var p Pattern
	if s == "" {
		return p, fmt.Errorf("route is empty")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return p, fmt.Errorf("route %q must not include a scheme; write %q", s, s[i+3:])
	}
	path := s
	if !strings.HasPrefix(s, "/") {
		hostPart, rest, hasPath := strings.Cut(s, "/")
		if hostPart == "*" {
			return p, fmt.Errorf("route %q: a host cannot be just \"*\"; write \"/*\" to take every path on every host", s)
		}
		if !looksLikeHost(hostPart) {
			return p, fmt.Errorf("route %q must start with \"/\" or with a host name such as \"shop.example.com/\"", s)
		}
		host, err := parseHost(hostPart)
		if err != nil {
			return p, fmt.Errorf("route %q: %w", s, err)
		}
		if !hasPath {
			return p, fmt.Errorf("route %q has no path; write %q to take every path on that host", s, s+"/*")
		}
		p.Host, path = host, "/"+rest
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

// looksLikeHost tells a host ("shop.example.com", "localhost:8080",
// "*.example.com", "[::1]") from a path written without its leading "/"
// ("api/cart"), so that the latter is not silently taken for a host.
func looksLikeHost(h string) bool {
	return strings.ContainsAny(h, ".:[*") || strings.EqualFold(h, "localhost")
}

func parseHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		return "", fmt.Errorf("host %q: IP address literals in brackets are not supported", h)
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
	for i, c := range path {
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '\\' || c > 0x7e {
			return fmt.Errorf("path has invalid character %q (percent-encode it)", c)
		}
		if c == '%' && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])) {
			return fmt.Errorf("path has a '%%' that is not followed by two hexadecimal digits (write %%25 for a literal '%%')")
		}
	}
	segs := strings.Split(path[1:], "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return fmt.Errorf("path has an empty segment (\"//\")")
		case seg == "" && prefix:
			return fmt.Errorf("path must not end in \"/\" before \"/*\"")
		case dotSegment(seg) != 0:
			return fmt.Errorf("path must not contain %q segments (requests are matched after they are removed)", seg)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// dotSegment reports whether seg is a "." (1) or ".." (2) path segment,
// plainly or percent-encoded as a WHATWG URL parser recognises them, or
// neither (0).
func dotSegment(seg string) int {
	switch len(seg) {
	case 1, 3:
		if seg == "." || strings.EqualFold(seg, "%2e") {
			return 1
		}
	case 2, 4, 6:
		switch strings.ToLower(seg) {
		case "..", ".%2e", "%2e.", "%2e%2e":
			return 2
		}
	}
	return 0
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
