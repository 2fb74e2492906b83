package job

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Allowlist says which callback URLs the node may post outcomes to. A
// callback is a request the node makes on behalf of whoever called the
// gateway, so only the operator's list counts (wisp serve
// --callback-host).
type Allowlist struct {
	patterns []hostPattern
}

type hostPattern struct {
	scheme string
	host   string // lowercase; "*.example.com" matches any subdomain
	port   string // "*" for any
}

// ParseAllowlist reads patterns like "https://hooks.example.com",
// "https://*.example.com" or "http://127.0.0.1:*". A pattern without a
// port allows the scheme's default port only.
func ParseAllowlist(patterns []string) (*Allowlist, error) {
	a := &Allowlist{}
	for _, p := range patterns {
		hp, ok := parsePattern(p)
		if !ok {
			return nil, fmt.Errorf("callback host %q is not of the form http(s)://HOST[:PORT] (HOST may start with *., PORT may be *)", p)
		}
		a.patterns = append(a.patterns, hp)
	}
	return a, nil
}

func parsePattern(p string) (hostPattern, bool) {
	scheme, rest, ok := strings.Cut(p, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return hostPattern{}, false
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return hostPattern{}, false
	}
	host, port := rest, defaultPort(scheme)
	if h, pt, err := net.SplitHostPort(rest); err == nil {
		host, port = h, pt
	}
	if host == "" || port == "" || (port != "*" && strings.Trim(port, "0123456789") != "") {
		return hostPattern{}, false
	}
	if _, err := url.Parse(scheme + "://" + strings.Replace(host, "*.", "x.", 1)); err != nil {
		return hostPattern{}, false
	}
	return hostPattern{scheme: scheme, host: strings.ToLower(host), port: port}, true
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// Check returns nil when raw is an absolute http(s) URL the list allows.
func (a *Allowlist) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: %q is not an absolute http or https URL", ErrCallbackNotAllowed, raw)
	}
	if a == nil || len(a.patterns) == 0 {
		return fmt.Errorf("%w: %s: this node allows no callback hosts (the operator adds them with wisp serve --callback-host)", ErrCallbackNotAllowed, raw)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	for _, p := range a.patterns {
		if p.scheme == u.Scheme && (p.port == "*" || p.port == port) && hostMatches(p.host, host) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not on this node's callback allowlist", ErrCallbackNotAllowed, u.Scheme+"://"+u.Host)
}

func hostMatches(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return pattern == host
}
