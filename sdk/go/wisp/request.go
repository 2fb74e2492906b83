package wisp

import (
	"encoding/binary"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"unsafe"
)

// A Go guest pays for every allocation (a few hundred ns under wasm) and
// for every instruction more than native code does, and a request that
// does little is mostly the SDK's own work. So the request path decodes
// the head in one pass, straight into the *http.Request, with the
// request, its URL and the first header values in one allocation.

// inlineValues is how many header values fit in an exchange without a
// second allocation (the request id is one of them).
const inlineValues = 4

// exchange is one request: allocated together.
type exchange struct {
	req    http.Request
	url    url.URL
	values [inlineValues]string
}

var errHead = &Error{Op: "request_head", Code: CodeFailed, Message: "request_head: malformed request head"}

// newRequest builds the request of a head (docs/abi.md, request_head): a
// string list of method, URL, request id, body length, then alternating
// header names and values. Every string points into head, which must not
// change afterwards. As with net/http's server, the first Host header
// becomes req.Host and is not in req.Header; the request id is also the
// X-Wisp-Request-Id header. The body is http.NoBody: the caller sets it.
func newRequest(head []byte) (*http.Request, error) {
	if len(head) < 4 {
		return nil, errHead
	}
	count := binary.LittleEndian.Uint32(head)
	if count < 4 || count%2 != 0 || uint64(count)*4 > uint64(len(head)-4) {
		return nil, errHead
	}
	rest := head[4:]
	var fixed [4]string
	for i := range fixed {
		s, r, ok := nextString(rest)
		if !ok {
			return nil, errHead
		}
		fixed[i], rest = s, r
	}
	method, rawURL, id, bodyLen := fixed[0], fixed[1], fixed[2], fixed[3]
	x := new(exchange)
	u, requestURI, err := parseRequestURL(&x.url, rawURL)
	if err != nil {
		return nil, err
	}
	size := parseSize(bodyLen)
	pairs := int(count-4) / 2
	values := x.values[:]
	if pairs+1 > len(values) {
		values = make([]string, pairs+1) // the last for X-Wisp-Request-Id
	}
	h := make(http.Header, pairs+1)
	host := u.Host
	hostSeen := false
	for j := 0; j < pairs; j++ {
		k, r, ok := nextString(rest)
		if !ok {
			return nil, errHead
		}
		v, r, ok := nextString(r)
		if !ok {
			return nil, errHead
		}
		rest = r
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Host" {
			if !hostSeen && v != "" {
				host = v
			}
			hostSeen = true
			continue
		}
		if old, ok := h[k]; ok {
			h[k] = append(old, v)
			continue
		}
		values[j] = v
		h[k] = values[j : j+1 : j+1]
	}
	if id != "" {
		values[pairs] = id
		h["X-Wisp-Request-Id"] = values[pairs : pairs+1 : pairs+1]
	}
	x.req = http.Request{
		Method:        method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: size,
		Host:          host,
		RequestURI:    requestURI,
	}
	return &x.req, nil
}

// nextString cuts one string of a list off the front of b; the string
// points into b.
func nextString(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	l := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(l) > uint64(len(b)) {
		return "", nil, false
	}
	return unsafe.String(unsafe.SliceData(b), int(l)), b[l:], true
}

// parseRequestURL is parseURLInto that also returns the request URI
// (u.RequestURI()); on the fast path it is a part of s, not a new string.
func parseRequestURL(u *url.URL, s string) (*url.URL, string, error) {
	if v, uri, ok := fastURL(u, s); ok {
		return v, uri, nil
	}
	v, err := url.Parse(s)
	if err != nil {
		return nil, "", err
	}
	return v, v.RequestURI(), nil
}

// parseSize reads the body length; the host sends a decimal number.
func parseSize(s string) int64 {
	if len(s) == 0 || len(s) > 18 {
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
