package wisp

import (
	"net/url"
	"strings"
)

// parseURL is url.Parse for the absolute URLs the host sends, with a fast
// path (url.Parse costs ~4 µs under wasm) for the common case: a plain
// host name and a path and query made of characters that need no
// escaping, where both give the same URL. Anything else goes to url.Parse.
func parseURL(s string) (*url.URL, error) {
	return parseURLInto(new(url.URL), s)
}

// parseURLInto is parseURL filling u on the fast path (so that u can be
// allocated with other things); url.Parse's result is returned as it is.
func parseURLInto(u *url.URL, s string) (*url.URL, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return url.Parse(s)
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 || !plainHost(rest[:i]) {
		return url.Parse(s)
	}
	path, query, hasQuery := strings.Cut(rest[i:], "?")
	if !plain(path, pathChars) || !plain(query, queryChars) {
		return url.Parse(s)
	}
	*u = url.URL{Scheme: scheme, Host: rest[:i], Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	return u, nil
}

// Characters a path keeps as they are (url.URL.EscapedPath does not
// escape them), and characters a query may hold.
const (
	pathChars  = "-._~/$&+,:;="
	queryChars = "-._~/?&=:;,+!$'()*"
)

// plainHost: letters, digits, '.' and '-', then an optional ":port".
func plainHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	if name == "" || (hasPort && port == "") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

func plain(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
