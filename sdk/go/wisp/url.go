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
	if v, _, ok := fastURL(u, s); ok {
		return v, nil
	}
	return url.Parse(s)
}

// fastURL fills u with s when s is on the fast path, and returns the
// request URI (u.RequestURI(), a part of s). It reads s once, each byte
// looked up in urlChars.
func fastURL(u *url.URL, s string) (*url.URL, string, bool) {
	var scheme, rest string
	switch {
	case strings.HasPrefix(s, "http://"):
		scheme, rest = "http", s[len("http://"):]
	case strings.HasPrefix(s, "https://"):
		scheme, rest = "https", s[len("https://"):]
	default:
		return nil, "", false
	}
	i := 0
	for i < len(rest) && urlChars[rest[i]]&hostChar != 0 {
		i++
	}
	if i == 0 {
		return nil, "", false
	}
	if i < len(rest) && rest[i] == ':' {
		j := i + 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == i+1 {
			return nil, "", false
		}
		i = j
	}
	if i == len(rest) || rest[i] != '/' {
		return nil, "", false
	}
	host, uri := rest[:i], rest[i:]
	j := 0
	for j < len(uri) && urlChars[uri[j]]&pathChar != 0 {
		j++
	}
	path, query, hasQuery := uri[:j], "", false
	if j < len(uri) {
		if uri[j] != '?' {
			return nil, "", false
		}
		query, hasQuery = uri[j+1:], true
		for k := 0; k < len(query); k++ {
			if urlChars[query[k]]&queryChar == 0 {
				return nil, "", false
			}
		}
	}
	*u = url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	return u, uri, true
}

// What each byte may be on the fast path: in a host name (letters,
// digits, '.' and '-'), a path (what url.URL.EscapedPath keeps as it is)
// or a query.
const (
	hostChar = 1 << iota
	pathChar
	queryChar
)

var urlChars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if isAlnum(byte(c)) {
			t[c] = hostChar | pathChar | queryChar
		}
	}
	t['.'] |= hostChar
	t['-'] |= hostChar
	for _, c := range []byte("-._~/$&+,:;=") {
		t[c] |= pathChar
	}
	for _, c := range []byte("-._~/?&=:;,+!$'()*") {
		t[c] |= queryChar
	}
	return t
}()

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
