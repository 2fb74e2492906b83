package outbound

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Pattern is one [outbound] allowed_hosts entry:
//
//	[scheme://]host[:port]
//
// scheme is http, https or * (default https); host is a name, an IP
// address, *.example.com (any name under example.com, not example.com
// itself) or * (any host); port is a number or * (default: the scheme's
// own, 443 or 80; with scheme * both). Matching is case-insensitive and
// ignores a trailing dot on names.
type Pattern struct {
	Scheme string // "http", "https" or "*"
	Host   string // lowercase name or IP, "*.suffix" or "*"
	Port   string // digits, "*" or "" for the scheme's default
}

// ParsePattern parses one allowed_hosts entry.
func ParsePattern(s string) (Pattern, error) {
	orig := s
	bad := func(why string) (Pattern, error) {
		return Pattern{}, fmt.Errorf("%q is not a host pattern: %s (write [scheme://]host[:port], e.g. \"https://api.example.com\" or \"*.example.com:8443\")", orig, why)
	}
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n") {
		return bad("empty or contains spaces")
	}
	p := Pattern{Scheme: "https"}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		switch scheme = strings.ToLower(scheme); scheme {
		case "http", "https", "*":
			p.Scheme = scheme
		default:
			return bad(fmt.Sprintf("scheme %q is not http, https or *", scheme))
		}
		s = rest
	}
	if strings.ContainsAny(s, "/?#@") {
		return bad("only a scheme, a host and a port are allowed (no path, query or user)")
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return bad("unclosed '[' in an IPv6 address")
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if s[end+1:] != "" && !strings.HasPrefix(s[end+1:], ":") {
			return bad("unexpected text after ']'")
		}
		if net.ParseIP(host) == nil {
			return bad(fmt.Sprintf("%q is not an IPv6 address", host))
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		host, port = s[:i], s[i+1:]
		if i == len(s)-1 {
			return bad("empty port")
		}
	}
	if port != "" && port != "*" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad(fmt.Sprintf("port %q is not a number from 1 to 65535 or *", port))
		}
		port = strconv.Itoa(n)
	}
	p.Port = port
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case host == "*":
	case strings.HasPrefix(host, "*."):
		if !validName(host[2:]) {
			return bad(fmt.Sprintf("%q after \"*.\" is not a host name", host[2:]))
		}
	case strings.Contains(host, "*"):
		return bad("'*' may only be the whole host or its first label (\"*.example.com\")")
	case net.ParseIP(host) != nil:
	case !validName(host):
		return bad(fmt.Sprintf("%q is not a host name", host))
	}
	p.Host = host
	return p, nil
}

// validName reports whether s is a DNS name of letters, digits, '-' and
// '_' labels (IDNs are written in their xn-- form).
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// Match reports whether u may be fetched under p.
func (p Pattern) Match(u *url.URL) bool {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return false
	}
	if p.Scheme != "*" && p.Scheme != scheme {
		return false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	switch {
	case p.Port == "*":
	case p.Port == "":
		if port != defaultPort(scheme) {
			return false
		}
	case p.Port != port:
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	switch {
	case p.Host == "*":
		return true
	case strings.HasPrefix(p.Host, "*."):
		return strings.HasSuffix(host, p.Host[1:]) && len(host) > len(p.Host)-1
	}
	if ip := net.ParseIP(host); ip != nil {
		pip := net.ParseIP(p.Host)
		return pip != nil && pip.Equal(ip)
	}
	return host == p.Host
}

func (p Pattern) String() string {
	s := p.Scheme + "://" + p.Host
	if strings.Contains(p.Host, ":") {
		s = p.Scheme + "://[" + p.Host + "]"
	}
	if p.Port != "" {
		s += ":" + p.Port
	}
	return s
}
