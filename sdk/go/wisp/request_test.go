package wisp

import (
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// wantRequest is the request a head describes, built the plain way.
func wantRequest(ss []string) (*http.Request, error) {
	u, err := url.Parse(ss[1])
	if err != nil {
		return nil, err
	}
	size, _ := strconv.ParseInt(ss[3], 10, 64)
	h := http.Header{}
	host, hostSeen := u.Host, false
	for i := 4; i < len(ss); i += 2 {
		k := textproto.CanonicalMIMEHeaderKey(ss[i])
		if k == "Host" {
			if !hostSeen && ss[i+1] != "" {
				host = ss[i+1]
			}
			hostSeen = true
			continue
		}
		h[k] = append(h[k], ss[i+1])
	}
	if ss[2] != "" {
		h["X-Wisp-Request-Id"] = []string{ss[2]}
	}
	return &http.Request{
		Method: ss[0], URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: http.NoBody, ContentLength: size, Host: host, RequestURI: u.RequestURI(),
	}, nil
}

func checkRequest(t *testing.T, head []byte) {
	got, err := newRequest(head)
	ss, lerr := viewList(head)
	if lerr != nil || len(ss) < 4 || len(ss)%2 != 0 {
		if err == nil {
			t.Fatalf("%q: newRequest accepted a malformed head", head)
		}
		return
	}
	want, werr := wantRequest(ss)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, want %v", ss, err, werr)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", ss, got, want)
	}
}

var headSeeds = [][]string{
	{"GET", "http://svc.test/hello-go/", "req-1", "0", "User-Agent", "Go-http-client/1.1", "Accept-Encoding", "gzip", "Host", "127.0.0.1:8080"},
	{"POST", "https://h:8443/a/b?x=1&y=2", "", "12", "content-type", "text/plain", "X-A", "1", "x-a", "2"},
	{"GET", "http://h/a%20b?q=%41", "id", "0", "Host", "", "Host", "second"},
	{"PUT", "http://h/", "id", "abc"},
	{"GET", "http://h/p", "id", "0", "A", "1", "B", "2", "C", "3", "D", "4", "E", "5", "F", "6"},
	{"GET", "ftp://h/x", "id", "0"},
	{"GET", "http://h/%zz", "id", "0"},
}

func TestNewRequest(t *testing.T) {
	for _, ss := range headSeeds {
		checkRequest(t, appendList(nil, ss...))
	}
	for _, bad := range [][]string{{}, {"GET"}, {"GET", "http://h/", "id"}, {"GET", "http://h/", "id", "0", "Odd"}} {
		if _, err := newRequest(appendList(nil, bad...)); err == nil {
			t.Errorf("%q: newRequest accepted a malformed head", bad)
		}
	}
	for _, bad := range [][]byte{nil, {4, 0, 0, 0}, {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0}} {
		if _, err := newRequest(bad); err == nil {
			t.Errorf("%v: newRequest accepted a malformed head", bad)
		}
	}
}

// FuzzNewRequest: newRequest never panics, rejects what is not a head,
// and builds the same request as the plain construction.
func FuzzNewRequest(f *testing.F) {
	for _, ss := range headSeeds {
		f.Add(appendList(nil, ss...))
	}
	f.Fuzz(checkRequest)
}

func TestParseSize(t *testing.T) {
	for _, s := range []string{"0", "12", "007", "", "x", "-1", "9223372036854775807", "99999999999999999999", "123456789012345678"} {
		want, _ := strconv.ParseInt(s, 10, 64)
		if got := parseSize(s); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", s, got, want)
		}
	}
}

// BenchmarkRequestPath is the SDK's part of a request, natively (the host
// calls are stubs here): decoding the head, a ServeMux like
// examples/hello-go's, and encoding the response head.
func BenchmarkRequestPath(b *testing.B) {
	head := appendList(nil, headSeeds[0]...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello-go/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Hello, world!"))
	})
	b.ReportAllocs()
	for b.Loop() {
		req, err := newRequest(head)
		if err != nil {
			b.Fatal(err)
		}
		w := &writer
		w.reset()
		mux.ServeHTTP(w, req)
		w.finish()
	}
}

func TestAppendHeader(t *testing.T) {
	for _, h := range []http.Header{
		{},
		{"Content-Type": {"text/plain"}},
		{"Content-Type": {"a", "b"}},
		{"X-One": {"1"}},
		{"Content-Type": {"text/plain"}, "Set-Cookie": {"a=1", "b=2"}, "X-Empty": {}},
	} {
		ss, err := viewList(appendHeader([]byte("prefix"), h)[len("prefix"):])
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		got := http.Header{}
		for i := 0; i+1 < len(ss); i += 2 {
			got[ss[i]] = append(got[ss[i]], ss[i+1])
		}
		want := http.Header{}
		for k, vs := range h {
			if len(vs) > 0 {
				want[k] = vs
			}
		}
		if len(ss)%2 != 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%v encoded as %q", h, ss)
		}
	}
}
