package wisp

import (
	"encoding/binary"
	"net/http"
	"os"
	"strconv"
)

// flushSize is how much of the body is buffered before it goes to the host.
const flushSize = 8 << 10

// headBuf and bodyBuf are reused from request to request: the host copies
// what it is given before the call returns.
var headBuf, bodyBuf []byte

// writer is every request's ResponseWriter: one may not be used after
// ServeHTTP returns (net/http's rule), and requests never overlap.
var writer responseWriter

// responseWriter is the http.ResponseWriter of a request. It buffers the
// body up to flushSize and sends the head with the first flush, so a small
// response is one host call carrying head and body.
type responseWriter struct {
	header   http.Header
	status   int
	headSent bool
	buf      []byte
}

// reset readies w for a new request; the header map is kept, emptied.
func (w *responseWriter) reset() {
	if w.header == nil {
		w.header = make(http.Header)
	} else {
		clear(w.header)
	}
	w.status, w.headSent, w.buf = 0, false, bodyBuf[:0]
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || w.headSent {
		return
	}
	if code < 100 || code > 999 {
		panic("wisp: invalid WriteHeader code " + strconv.Itoa(code))
	}
	w.status = code
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf)+len(p) > flushSize {
		if err := w.flush(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// WriteString is Write without converting s to a new slice
// (io.StringWriter, which io.WriteString and fmt use).
func (w *responseWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.buf)+len(s) > flushSize {
		return w.Write([]byte(s))
	}
	w.buf = append(w.buf, s...)
	return len(s), nil
}

// Flush sends what is buffered (http.Flusher).
func (w *responseWriter) Flush() { _ = w.flush(nil) }

func (w *responseWriter) flush(extra []byte) error {
	if !w.headSent {
		status, head := w.head()
		if len(extra) == 0 {
			// The head and all that is buffered in one host call.
			rc := hResponse(status, bytesPtr(head), uint32(len(head)), bytesPtr(w.buf), uint32(len(w.buf)))
			if rc != codeBadInput {
				w.buf = w.buf[:0]
				if rc < 0 {
					return callError("response", rc)
				}
				return nil
			}
			// A head the host refused is reported, and the body still goes
			// out (as with response_head then response_write).
			os.Stderr.WriteString(callError("response", rc).Error() + "\n")
		} else if rc := hResponseHead(status, bytesPtr(head), uint32(len(head))); rc < 0 {
			os.Stderr.WriteString(callError("response_head", rc).Error() + "\n")
		}
	}
	for _, b := range [][]byte{w.buf, extra} {
		if len(b) == 0 {
			continue
		}
		if rc := hResponseWrite(bytesPtr(b), uint32(len(b))); rc < 0 {
			w.buf = w.buf[:0]
			return callError("response_write", rc)
		}
	}
	w.buf = w.buf[:0]
	return nil
}

// head marks the head sent and encodes it (docs/abi.md: a string list of
// alternating names and values) into headBuf.
func (w *responseWriter) head() (int32, []byte) {
	w.headSent = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if _, ok := w.header["Content-Type"]; !ok && len(w.buf) > 0 && w.header.Get("Content-Encoding") == "" {
		w.header.Set("Content-Type", http.DetectContentType(w.buf))
	}
	headBuf = appendHeader(headBuf[:0], w.header)
	status := w.status
	if status < 200 {
		status = http.StatusOK // informational responses are not relayed
	}
	return int32(status), headBuf
}

// appendHeader appends the string list of h's names and values to b.
func appendHeader(b []byte, h http.Header) []byte {
	// Most responses set Content-Type alone: that one is found without
	// ranging over the map (a map iterator is a lot of code for a Go
	// guest to run through, and costs a random number).
	if len(h) == 1 {
		if vs, ok := h["Content-Type"]; ok {
			b = binary.LittleEndian.AppendUint32(b, uint32(2*len(vs)))
			for _, v := range vs {
				b = appendString(appendString(b, "Content-Type"), v)
			}
			return b
		}
	}
	// One pass over the map: the count is filled in at the end.
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			b = appendString(appendString(b, k), v)
		}
		n += 2 * len(vs)
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(n))
	return b
}

func (w *responseWriter) finish() {
	if !w.headSent || len(w.buf) > 0 {
		_ = w.flush(nil)
	}
	if cap(w.buf) <= 4*flushSize {
		bodyBuf = w.buf[:0]
	}
}
