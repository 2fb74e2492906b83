package wasm

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestResponse: response sends a head and a body in one call, exactly as
// response_head then response_write would, and refuses what
// response_head refuses without sending anything.
func TestResponse(t *testing.T) {
	goodHead := string(appendList(nil, "Content-Type", "text/plain", "X-A", "1", "x-a", "2"))
	tests := []struct {
		name       string
		before     func(h *streamHost) // calls made first
		status     uint32
		head, body string
		wantRC     int32
		wantErr    string // in error_read's message
		wantStatus int    // what the client got (after a response_write of "late" when the call failed)
		wantHeader http.Header
		wantBody   string
	}{
		{name: "head and body", status: 201, head: goodHead, body: "hello",
			wantStatus: 201, wantHeader: http.Header{"Content-Type": {"text/plain"}, "X-A": {"1", "2"}}, wantBody: "hello"},
		{name: "head alone", status: 204, head: goodHead,
			wantStatus: 204, wantHeader: http.Header{"Content-Type": {"text/plain"}, "X-A": {"1", "2"}}},
		{name: "no headers", status: 200, body: "x", wantStatus: 200, wantHeader: http.Header{}, wantBody: "x"},
		{name: "bad header name sends nothing", status: 200, head: string(appendList(nil, "Bad Name", "v")), body: "hello",
			wantRC: codeBadInput, wantErr: "response: header name", wantStatus: 200, wantHeader: http.Header{}, wantBody: "late"},
		{name: "bad status", status: 99, body: "hello",
			wantRC: codeBadInput, wantErr: "response: status 99", wantStatus: 200, wantHeader: http.Header{}, wantBody: "late"},
		{name: "odd head", status: 200, head: string(appendList(nil, "X-A")),
			wantRC: codeBadInput, wantErr: "names and values come in pairs", wantStatus: 200, wantHeader: http.Header{}, wantBody: "late"},
		{name: "after response_head", status: 200, body: "hello",
			before: func(h *streamHost) {
				if rc := h.call("response_head", 202, 0, 0); rc != codeOK {
					t.Fatalf("response_head: %d", rc)
				}
			},
			wantRC: codeState, wantErr: "response: the response head was already sent", wantStatus: 202, wantHeader: http.Header{}, wantBody: "late"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newStreamHost(t)
			rec := httptest.NewRecorder()
			h.r.w = rec
			if tc.before != nil {
				tc.before(h)
			}
			hp, hn := h.put(0, tc.head)
			bp, bn := h.put(4096, tc.body)
			rc := h.call("response", tc.status, hp, hn, bp, bn)
			if rc != tc.wantRC {
				t.Fatalf("rc %d, want %d (%s)", rc, tc.wantRC, h.r.errMsg)
			}
			if rc != codeOK {
				if !strings.Contains(h.r.errMsg, tc.wantErr) {
					t.Fatalf("error %q, want it to say %q", h.r.errMsg, tc.wantErr)
				}
				lp, ln := h.put(8192, "late")
				if rc := h.call("response_write", lp, ln); rc != codeOK {
					t.Fatalf("response_write after a refused response: %d", rc)
				}
			}
			got := rec.Result()
			got.Header.Del("Content-Length")
			if got.StatusCode != tc.wantStatus || rec.Body.String() != tc.wantBody || !equalHeader(rec.Header(), tc.wantHeader) {
				t.Fatalf("client got %d %v %q, want %d %v %q", got.StatusCode, rec.Header(), rec.Body, tc.wantStatus, tc.wantHeader, tc.wantBody)
			}
		})
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, vs := range a {
		if strings.Join(vs, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// TestRequestHeadInPlace: the head written straight into a buffer that
// fits is the head handed over through result_read when it does not.
func TestRequestHeadInPlace(t *testing.T) {
	h := newStreamHost(t)
	h.r.req.Header = http.Header{"User-Agent": {"test"}, "X-Many": {"a", "b"}}
	h.r.req.Body = []byte("body")
	n := h.call("request_head", 0, 4096)
	if n <= 0 || n > 4096 || h.r.result != nil {
		t.Fatalf("request_head into 4096 bytes: %d (pending %d)", n, len(h.r.result))
	}
	inPlace := h.read(0, uint32(n))
	if m := h.call("request_head", 8192, 8); m != n || len(h.r.result) != int(n) {
		t.Fatalf("request_head into 8 bytes: %d, pending %d, want %d", m, len(h.r.result), n)
	}
	if got := h.call("result_read", 8192, uint32(n)); got != n {
		t.Fatalf("result_read: %d", got)
	}
	later := h.read(8192, uint32(n))
	ss, used, err := parseList(inPlace)
	if err != nil || used != int(n) || len(ss) != 10 || ss[0] != "GET" || ss[2] != "streams" || ss[3] != "4" {
		t.Fatalf("head %q (%d of %d bytes, %v)", ss, used, n, err)
	}
	// The header map is walked in Go's random map order each time, so
	// the two encodings agree field for field, not byte for byte.
	ls, _, err := parseList(later)
	if err != nil || !slices.Equal(ss[:4], ls[:4]) || !equalHeader(pairs(ss[4:]), pairs(ls[4:])) {
		t.Fatalf("in place %q, through result_read %q", inPlace, later)
	}
}

// pairs is a head's name/value list as a header map, values in order.
func pairs(kv []string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}
