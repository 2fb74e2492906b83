package wisp

import (
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"unsafe"
)

// Transport is an http.RoundTripper through the host: to the service
// bound as Binding, or, with Binding "", out to the hosts the manifest's
// [outbound] allowed_hosts permits. On wasip1 http.DefaultTransport is a
// Transport{}, so http.Get and http.DefaultClient work as usual.
type Transport struct{ Binding string }

// Service returns a client for the service bound as binding
// ([[services]]). The URL's host is not used to route: every request goes
// to that service, with its path and query.
func Service(binding string) *http.Client {
	return &http.Client{Transport: &Transport{Binding: binding}}
}

// RoundTrip sends req and reads the whole response.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ss := []string{req.Method, req.URL.String()}
	if req.Host != "" && req.Host != req.URL.Host {
		ss = append(ss, "Host", req.Host)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			ss = append(ss, k, v)
		}
	}
	head := appendList(nil, ss...)
	res, err := result("http_fetch", func(p unsafe.Pointer, c uint32) int32 {
		return hHttpFetch(t.Binding, bytesPtr(head), uint32(len(head)), bytesPtr(body), uint32(len(body)), p, c)
	})
	if err != nil {
		return nil, err
	}
	rs, rb, err := parseList(res)
	if err != nil || len(rs)%2 != 1 {
		return nil, &Error{Op: "http_fetch", Code: CodeFailed, Message: "http_fetch: malformed response head"}
	}
	code, err := strconv.Atoi(rs[0])
	if err != nil {
		return nil, &Error{Op: "http_fetch", Code: CodeFailed, Message: "http_fetch: malformed status " + rs[0]}
	}
	h := make(http.Header, len(rs)/2)
	for i := 1; i < len(rs); i += 2 {
		k := textproto.CanonicalMIMEHeaderKey(rs[i])
		h[k] = append(h[k], rs[i+1])
	}
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(rb)),
		ContentLength: int64(len(rb)),
		Request:       req,
	}, nil
}
