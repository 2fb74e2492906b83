package js

import (
	"strconv"
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// WHATWG URL parsing (https://url.spec.whatwg.org/). The common case, an
// absolute http(s) URL in plain ASCII with nothing to normalize, is
// parsed here by slicing the input; anything else goes to
// github.com/nlnwa/whatwg-url, with two corrections for spec changes that
// library predates. urltest_test.go runs both paths against the
// web-platform-tests URL data.

// urlRec is a parsed URL's components, serialized as the spec says.
type urlRec struct {
	scheme             string // without ':'
	username, password string
	host               string // serialized host
	hasHost            bool
	port               string
	path               string // serialized path (an opaque path when opaque)
	opaque             bool
	query              string
	hasQuery           bool
	fragment           string
	hasFragment        bool
	raw                string // the href, when known
}

var urlParser = whatwg.NewParser()

// parseURL parses input against base ("" for none).
func parseURL(input, base string) (*urlRec, error) {
	if base == "" {
		if u, ok := fastParse(input); ok {
			return u, nil
		}
	} else if u, ok := fastParseRelative(input, base); ok {
		return u, nil
	}
	var wu *whatwg.Url
	var err error
	if base == "" {
		wu, err = urlParser.Parse(input)
	} else {
		wu, err = urlParser.ParseRef(base, input)
	}
	if err != nil {
		return nil, err
	}
	return fromWhatwg(wu), nil
}

// fromWhatwg converts the library's URL, fixing what changed in the spec
// since it was written.
func fromWhatwg(wu *whatwg.Url) *urlRec {
	href := wu.Href(false)
	u := &urlRec{
		scheme:   strings.TrimSuffix(wu.Protocol(), ":"),
		username: wu.Username(),
		password: wu.Password(),
		host:     wu.Hostname(),
		port:     wu.Port(),
		path:     wu.Pathname(),
	}
	rest := href[len(u.scheme)+1:]
	u.hasHost = strings.HasPrefix(rest, "//")
	if i := strings.IndexByte(href, '#'); i >= 0 {
		u.hasFragment, u.fragment = true, href[i+1:]
		href = href[:i]
	}
	if i := strings.IndexByte(href, '?'); i >= 0 {
		u.hasQuery, u.query = true, href[i+1:]
	}
	u.opaque = !u.hasHost && !strings.HasPrefix(u.path, "/")
	if u.opaque {
		// Spaces ending an opaque path before a query or fragment: the
		// last one is percent-encoded (whatwg/url#843).
		if (u.hasQuery || u.hasFragment) && strings.HasSuffix(u.path, " ") {
			u.path = u.path[:len(u.path)-1] + "%20"
		}
	} else if strings.IndexByte(u.path, '^') >= 0 {
		// '^' joined the path percent-encode set (whatwg/url#846).
		u.path = strings.ReplaceAll(u.path, "^", "%5E")
	}
	return u
}

// href serializes the URL.
func (u *urlRec) href() string {
	if u.raw != "" {
		return u.raw
	}
	var b strings.Builder
	b.Grow(len(u.scheme) + len(u.host) + len(u.path) + len(u.query) + len(u.fragment) + 16)
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.hasHost {
		b.WriteString("//")
		if u.username != "" || u.password != "" {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteByte(':')
				b.WriteString(u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.host)
		if u.port != "" {
			b.WriteByte(':')
			b.WriteString(u.port)
		}
	} else if !u.opaque && strings.HasPrefix(u.path, "//") {
		b.WriteString("/.")
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFragment {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	u.raw = b.String()
	return u.raw
}

func (u *urlRec) hostPort() string {
	if !u.hasHost {
		return ""
	}
	if u.port == "" {
		return u.host
	}
	return u.host + ":" + u.port
}

func (u *urlRec) search() string {
	if !u.hasQuery || u.query == "" {
		return ""
	}
	return "?" + u.query
}

func (u *urlRec) hash() string {
	if !u.hasFragment || u.fragment == "" {
		return ""
	}
	return "#" + u.fragment
}

// origin is the URL's ASCII serialized origin.
func (u *urlRec) origin() string {
	switch u.scheme {
	case "http", "https", "ws", "wss", "ftp":
		return u.scheme + "://" + u.hostPort()
	case "blob":
		if inner, err := parseURL(u.path, ""); err == nil && (inner.scheme == "http" || inner.scheme == "https") {
			return inner.origin()
		}
	}
	return "null"
}

// set applies a URL setter (href excluded) through the library.
func (u *urlRec) set(which, value string) *urlRec {
	wu, err := urlParser.Parse(u.href())
	if err != nil {
		return u
	}
	switch which {
	case "protocol":
		wu.SetProtocol(value)
	case "username":
		wu.SetUsername(value)
	case "password":
		wu.SetPassword(value)
	case "host":
		wu.SetHost(value)
	case "hostname":
		wu.SetHostname(value)
	case "port":
		wu.SetPort(value)
	case "pathname":
		wu.SetPathname(value)
	case "search":
		wu.SetSearch(value)
	case "hash":
		wu.SetHash(value)
	}
	return fromWhatwg(wu)
}

// fastParse parses an absolute http(s) URL that needs no normalization
// beyond a default port; ok is false for anything else.
func fastParse(s string) (*urlRec, bool) {
	var scheme string
	var rest string
	switch {
	case strings.HasPrefix(s, "https://"):
		scheme, rest = "https", s[8:]
	case strings.HasPrefix(s, "http://"):
		scheme, rest = "http", s[7:]
	default:
		return nil, false
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	authority := rest[:end]
	host, port, ok := fastHostPort(authority, scheme)
	if !ok {
		return nil, false
	}
	u := &urlRec{scheme: scheme, host: host, port: port, hasHost: true}
	if !fastTail(u, rest[end:]) {
		return nil, false
	}
	if u.path == "" {
		u.path = "/"
	} else if authority == host || (port != "" && len(authority) == len(host)+1+len(port) && authority[len(host)+1:] == port) {
		u.raw = s // nothing was normalized: the input is the href
	}
	return u, true
}

// fastParseRelative handles an absolute-path reference ("/x?y") against
// a base the fast path accepts.
func fastParseRelative(input, base string) (*urlRec, bool) {
	if len(input) == 0 || input[0] != '/' || (len(input) > 1 && (input[1] == '/' || input[1] == '\\')) {
		return nil, false
	}
	b, ok := fastParse(base)
	if !ok {
		return nil, false
	}
	u := &urlRec{scheme: b.scheme, host: b.host, port: b.port, hasHost: true}
	if !fastTail(u, input) {
		return nil, false
	}
	return u, true
}

// fastHostPort accepts a lowercase ASCII domain that is not an IDNA
// label, or an IPv4 address in dotted-decimal form, and an optional
// decimal port.
func fastHostPort(a, scheme string) (host, port string, ok bool) {
	host = a
	if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if port != "" {
			if len(port) > 5 || port[0] == '0' || strings.Trim(port, "0123456789") != "" {
				return "", "", false
			}
			n, err := strconv.Atoi(port)
			if err != nil || n > 65535 {
				return "", "", false
			}
			if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
				port = ""
			}
		}
	}
	if host == "" {
		return "", "", false
	}
	if c := host[len(host)-1]; c >= '0' && c <= '9' {
		// Ends in a number: an IPv4 address. Only the dotted-decimal form
		// the spec serializes back unchanged is taken here.
		return host, port, canonicalIPv4(host)
	}
	label := 0 // start of the current label
	for i := 0; i <= len(host); i++ {
		if i < len(host) {
			c := host[i]
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
				continue
			}
			if c != '.' {
				return "", "", false
			}
		}
		// Labels that start with a digit or '-' may make an IPv4 address
		// (the last one decides, and the library differs from the spec
		// on some): those hosts are left to the full parser.
		l := host[label:i]
		if l == "" || l[0] < 'a' || strings.HasPrefix(l, "xn--") {
			return "", "", false
		}
		label = i + 1
	}
	return host, port, true
}

// fastTail parses path, query and fragment when none needs encoding and
// the path has no dot segment.
func fastTail(u *urlRec, s string) bool {
	i := 0
	for i < len(s) && s[i] != '?' && s[i] != '#' {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' || c == '^' || c == '\\' {
			return false
		}
		i++
	}
	u.path = s[:i]
	if !noDotSegments(u.path) {
		return false
	}
	if i < len(s) && s[i] == '?' {
		j := i + 1
		for j < len(s) && s[j] != '#' {
			c := s[j]
			if c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\'' {
				return false
			}
			j++
		}
		u.hasQuery, u.query = true, s[i+1:j]
		i = j
	}
	if i < len(s) && s[i] == '#' {
		for j := i + 1; j < len(s); j++ {
			c := s[j]
			if c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' {
				return false
			}
		}
		u.hasFragment, u.fragment = true, s[i+1:]
	}
	return true
}

func noDotSegments(path string) bool {
	for len(path) > 0 {
		path = path[1:] // the '/'
		seg := path
		if i := strings.IndexByte(path, '/'); i >= 0 {
			seg, path = path[:i], path[i:]
		} else {
			path = ""
		}
		if seg != "" && (seg[0] == '.' || seg[0] == '%') {
			switch strings.ToLower(seg) {
			case ".", "..", "%2e", ".%2e", "%2e.", "%2e%2e":
				return false
			}
		}
	}
	return true
}

// canonicalIPv4 reports whether host is four decimal numbers of 0-255
// without leading zeros, joined by dots: the IPv4 serializer's own output,
// which the host parser maps to itself.
func canonicalIPv4(host string) bool {
	parts := 0
	for len(host) > 0 {
		n := 0
		for n < len(host) && host[n] != '.' {
			n++
		}
		p := host[:n]
		if n == 0 || n > 3 || (n > 1 && p[0] == '0') {
			return false
		}
		v := 0
		for i := 0; i < n; i++ {
			c := p[i]
			if c < '0' || c > '9' {
				return false
			}
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return false
		}
		parts++
		if n == len(host) {
			break
		}
		host = host[n+1:]
		if host == "" {
			return false // a trailing dot
		}
	}
	return parts == 4
}
