package wasm

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-run/wisp/internal/logs"
)

// Return codes of host functions (docs/abi.md). A call that produces data
// returns its length (>= 0) instead of OK.
const (
	codeOK        int32 = 0
	codeAbsent    int32 = -1 // the key, object, var or secret does not exist
	codeNoBinding int32 = -2 // no binding of that name and kind
	codeBadInput  int32 = -3 // an argument is malformed; error_read says which
	codeFailed    int32 = -4 // the operation failed; error_read says why
	codeDenied    int32 = -5 // the service may not do this
	codeTooLarge  int32 = -6 // a result or argument is over its size limit
	codeState     int32 = -7 // the call is not valid now (e.g. no request)
)

// Size limits of the ABI.
const (
	maxResultBytes    = 64 << 20 // any one result handed to the guest
	maxFetchBody      = 32 << 20 // a response body read for http_fetch
	maxHeaders        = 512      // header fields in a head
	maxResponseStatus = 599
)

// trapError is what a host function panics with when the guest broke the
// ABI (a pointer out of bounds, no memory): wazero unwinds the guest and
// the call returns it; the instance is discarded.
type trapError struct{ msg string }

func (t *trapError) Error() string { return "wisp ABI violation: " + t.msg }

func trapf(format string, args ...any) *trapError {
	return &trapError{msg: fmt.Sprintf(format, args...)}
}

// hostFunc is one function of host module "wisp". Every parameter and
// result is an i32.
type hostFunc struct {
	params int
	fn     func(r *reactor, m api.Module, p []uint32) int32
}

// hostFuncs is ABI v1, by import name.
var hostFuncs = map[string]hostFunc{
	"request_head":   {2, (*reactor).requestHead},
	"request_body":   {2, (*reactor).requestBody},
	"response_head":  {3, (*reactor).responseHead},
	"response_write": {2, (*reactor).responseWrite},
	"response":       {5, (*reactor).response},
	"log":            {3, (*reactor).log},
	"result_read":    {2, (*reactor).resultRead},
	"error_read":     {2, (*reactor).errorRead},
	"var_get":        {4, (*reactor).varGet},
	"secret_get":     {4, (*reactor).secretGet},
	"kv_get":         {6, (*reactor).kvGet},
	"kv_put":         {8, (*reactor).kvPut},
	"kv_delete":      {4, (*reactor).kvDelete},
	"kv_list":        {6, (*reactor).kvList},
	"object_get":     {8, (*reactor).objectGet},
	"object_head":    {6, (*reactor).objectHead},
	"object_put":     {10, (*reactor).objectPut},
	"object_delete":  {4, (*reactor).objectDelete},
	"object_list":    {6, (*reactor).objectList},
	"http_fetch":     {8, (*reactor).httpFetch},
	"queue_send":     {6, (*reactor).queueSend},
	// Added within v1 (abi_streams.go).
	"env_list":             {2, (*reactor).envList},
	"kv_get_with_metadata": {6, (*reactor).kvGetWithMetadata},
	"object_open":          {8, (*reactor).objectOpen},
	"object_put_stream":    {6, (*reactor).objectPutStream},
	"stream_read":          {3, (*reactor).streamRead},
	"stream_write":         {3, (*reactor).streamWrite},
	"stream_finish":        {3, (*reactor).streamFinish},
	"stream_close":         {1, (*reactor).streamClose},
}

// hostModule builds host module "wisp" for a runtime.
func hostModule(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(wispModule)
	for name, hf := range hostFuncs {
		params := make([]api.ValueType, hf.params)
		for i := range params {
			params[i] = api.ValueTypeI32
		}
		b = b.NewFunctionBuilder().
			WithGoModuleFunction(goFunc(name, hf), params, []api.ValueType{api.ValueTypeI32}).
			Export(name)
	}
	return b
}

func goFunc(name string, hf hostFunc) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		r, _ := ctx.Value(reactorKey{}).(*reactor)
		if r == nil {
			panic(trapf("wisp.%s called outside of a wisp instance", name))
		}
		// The parameters go to the reactor's array: a local one would
		// escape (hf.fn is not known) and cost an allocation per call.
		p := r.params[:hf.params]
		for i := range p {
			p[i] = api.DecodeU32(stack[i])
		}
		stack[0] = api.EncodeI32(hf.fn(r, m, p))
	}
}

// view returns guest memory [ptr, ptr+n) without copying, or traps.
func view(m api.Module, ptr, n uint32, what string) []byte {
	mem := m.Memory()
	if mem == nil {
		panic(trapf("the module has no memory"))
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		panic(trapf("%s [%d, +%d) is outside the module's memory of %d bytes", what, ptr, n, mem.Size()))
	}
	return b
}

// str reads a guest string (copied).
func str(m api.Module, ptr, n uint32, what string) string {
	return string(view(m, ptr, n, what))
}

// give hands data to the guest: copied into [buf, buf+capacity) when it
// fits, else kept as the pending result for result_read. It returns the
// length of data.
func (r *reactor) give(m api.Module, data []byte, buf, capacity uint32) int32 {
	out := view(m, buf, capacity, "result buffer")
	if len(data) > maxResultBytes {
		return r.fail(codeTooLarge, "result of %d bytes is over the limit of %d bytes", len(data), maxResultBytes)
	}
	if len(data) <= len(out) {
		copy(out, data)
		r.result = nil
	} else {
		r.result = data
	}
	return int32(len(data))
}

// fail records an error message and returns code.
func (r *reactor) fail(code int32, format string, args ...any) int32 {
	r.errMsg = fmt.Sprintf(format, args...)
	return code
}

func (r *reactor) resultRead(m api.Module, p []uint32) int32 {
	out := view(m, p[0], p[1], "result buffer")
	n := copy(out, r.result)
	r.result = nil
	return int32(n)
}

func (r *reactor) errorRead(m api.Module, p []uint32) int32 {
	out := view(m, p[0], p[1], "error buffer")
	copy(out, r.errMsg)
	return int32(len(r.errMsg))
}

func (r *reactor) requestHead(m api.Module, p []uint32) int32 {
	out := view(m, p[0], p[1], "result buffer")
	if r.req == nil {
		return r.fail(codeState, "request_head: no request is being handled")
	}
	// Encoded straight into the guest's buffer when it fits (else into
	// one buffer of the right size), without a list of strings.
	q := r.req
	var num [20]byte
	bodyLen := strconv.AppendInt(num[:0], int64(len(q.Body)), 10)
	count, size := 4, 4+16+len(q.Method)+len(q.URL)+len(q.ID)+len(bodyLen)
	for k, vs := range q.Header {
		for _, v := range vs {
			count += 2
			size += 8 + len(k) + len(v)
		}
	}
	if size > maxResultBytes {
		return r.fail(codeTooLarge, "result of %d bytes is over the limit of %d bytes", size, maxResultBytes)
	}
	var b []byte
	if size <= len(out) {
		b = out[:0:size]
	} else {
		b = make([]byte, 0, size)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(count))
	b = appendString(b, q.Method)
	b = appendString(b, q.URL)
	b = appendString(b, q.ID)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(bodyLen)))
	b = append(b, bodyLen...)
	for k, vs := range q.Header {
		for _, v := range vs {
			b = appendString(appendString(b, k), v)
		}
	}
	r.result = nil
	if size > len(out) {
		r.result = b // for result_read
	}
	return int32(len(b))
}

func (r *reactor) requestBody(m api.Module, p []uint32) int32 {
	out := view(m, p[0], p[1], "body buffer")
	if r.req == nil {
		return r.fail(codeState, "request_body: no request is being handled")
	}
	n := copy(out, r.req.Body[r.bodyRead:])
	r.bodyRead += n
	return int32(n)
}

func (r *reactor) responseHead(m api.Module, p []uint32) int32 {
	raw := view(m, p[1], p[2], "headers")
	return r.sendHead("response_head", int32(p[0]), raw)
}

// sendHead checks a response head and passes it on.
func (r *reactor) sendHead(op string, status int32, raw []byte) int32 {
	if r.req == nil {
		return r.fail(codeState, "%s: no request is being handled", op)
	}
	if r.headSent {
		return r.fail(codeState, "%s: the response head was already sent", op)
	}
	if status < 200 || status > maxResponseStatus {
		return r.fail(codeBadInput, "%s: status %d is not between 200 and %d", op, status, maxResponseStatus)
	}
	h, err := parseHeaders(raw)
	if err != nil {
		return r.fail(codeBadInput, "%s: %v", op, err)
	}
	dst := r.w.Header()
	for i := 0; i < len(h); i += 2 {
		dst.Add(h[i], h[i+1])
	}
	r.headSent = true
	r.w.WriteHeader(int(status))
	return codeOK
}

func (r *reactor) responseWrite(m api.Module, p []uint32) int32 {
	b := view(m, p[0], p[1], "body")
	return r.write("response_write", b)
}

func (r *reactor) write(op string, b []byte) int32 {
	if r.req == nil {
		return r.fail(codeState, "%s: no request is being handled", op)
	}
	if !r.headSent {
		r.headSent = true
		r.w.WriteHeader(http.StatusOK)
	}
	if _, err := r.w.Write(b); err != nil {
		return r.fail(codeFailed, "%s: %v", op, err)
	}
	return codeOK
}

// response is response_head and response_write in one call (added within
// v1): a response the guest has whole costs one host call.
func (r *reactor) response(m api.Module, p []uint32) int32 {
	raw := view(m, p[1], p[2], "headers")
	body := view(m, p[3], p[4], "body")
	if rc := r.sendHead("response", int32(p[0]), raw); rc != codeOK {
		return rc
	}
	if len(body) == 0 {
		return codeOK
	}
	return r.write("response", body)
}

var logLevels = []logs.Level{logs.Debug, logs.Info, logs.Warn, logs.Error}

func (r *reactor) log(m api.Module, p []uint32) int32 {
	msg := str(m, p[1], p[2], "log message")
	if p[0] >= uint32(len(logLevels)) {
		return r.fail(codeBadInput, "log: level %d is not 0 (debug) to 3 (error)", p[0])
	}
	id := ""
	if r.req != nil {
		id = r.req.ID
	}
	writeLog(r.ctx, &r.mod.spec, id, logLevels[p[0]], msg)
	return codeOK
}

// parseHeaders decodes a string list of names and values and checks them.
func parseHeaders(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	h, n, err := parseList(b)
	if err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	if n != len(b) {
		return nil, fmt.Errorf("headers: %d bytes after the string list", len(b)-n)
	}
	if len(h)%2 != 0 {
		return nil, fmt.Errorf("headers: %d strings; names and values come in pairs", len(h))
	}
	if len(h)/2 > maxHeaders {
		return nil, fmt.Errorf("headers: %d fields, over the limit of %d", len(h)/2, maxHeaders)
	}
	for i := 0; i < len(h); i += 2 {
		if !validHeaderName(h[i]) {
			return nil, fmt.Errorf("header name %q is not a valid field name", h[i])
		}
		if !validHeaderValue(h[i+1]) {
			return nil, fmt.Errorf("header %s: value contains a control character", h[i])
		}
	}
	return h, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
