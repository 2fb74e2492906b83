package js

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/dop251/goja"
)

// The body of a Request or Response (https://fetch.spec.whatwg.org/#bodies).
// Bytes and strings stay in Go until JS asks for a stream; a stream is a
// JS ReadableStream (prelude/streams.js); a reader is a Go stream (an
// outbound fetch's response), copied straight to the client when the
// worker passes it through untouched.

type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyBytes
	bodyString
	bodyStream
	bodyReader
)

type body struct {
	kind   bodyKind
	bytes  []byte
	str    string
	stream *goja.Object
	reader io.ReadCloser
	length int64 // of a reader, -1 when unknown
	used   bool
}

// extractBody turns a BodyInit into a body and the Content-Type it
// implies ("" for none).
func (in *instance) extractBody(v goja.Value) (body, string) {
	if isNullish(v) {
		return body{}, ""
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return body{kind: bodyString, str: in.toString(v)}, "text/plain;charset=UTF-8"
	}
	switch x := o.Export().(type) {
	case *urlSearchParams:
		return body{kind: bodyString, str: x.String()}, "application/x-www-form-urlencoded;charset=UTF-8"
	case *formData:
		b, boundary := x.multipart()
		return body{kind: bodyBytes, bytes: b}, "multipart/form-data; boundary=" + boundary
	case *blob:
		return body{kind: bodyBytes, bytes: x.data}, x.typ
	case *response, *request, *headers, *urlObject:
		return body{kind: bodyString, str: o.String()}, "text/plain;charset=UTF-8"
	}
	if b, ok := in.bufferBytes(o); ok {
		return body{kind: bodyBytes, bytes: append([]byte(nil), b...)}, ""
	}
	if in.isReadableStream(o) {
		if in.streamLocked(o) || in.streamDisturbed(o) {
			in.throwTypeError("This ReadableStream is disturbed (has already been read from), and cannot be used as a body.")
		}
		return body{kind: bodyStream, stream: o}, ""
	}
	return body{kind: bodyString, str: in.toString(v)}, "text/plain;charset=UTF-8"
}

// isNull reports whether there is no body at all.
func (b *body) isNull() bool { return b.kind == bodyNone }

// usedOrDisturbed is the bodyUsed attribute.
func (in *instance) bodyUsed(b *body) bool {
	if b.used {
		return true
	}
	return b.kind == bodyStream && in.streamDisturbed(b.stream)
}

// streamOf returns the body as a ReadableStream (the body attribute),
// converting a Go body the first time.
func (in *instance) bodyStream(b *body) goja.Value {
	switch b.kind {
	case bodyNone:
		return goja.Null()
	case bodyStream:
		return b.stream
	case bodyBytes, bodyString:
		data := b.bytes
		if b.kind == bodyString {
			data = []byte(b.str)
		}
		s, err := in.programFunc("streams", "fromBytes")(goja.Undefined(), in.newUint8Array(data))
		if err != nil {
			panic(err)
		}
		b.kind, b.stream, b.bytes, b.str = bodyStream, s.(*goja.Object), nil, ""
		if b.used {
			in.programFunc("streams", "markDisturbed")(goja.Undefined(), b.stream)
		}
		return b.stream
	case bodyReader:
		b.kind, b.stream = bodyStream, in.readerStream(b.reader)
		b.reader = nil
		return b.stream
	}
	return goja.Null()
}

// tee splits a body for clone(): b keeps one branch, the result gets the
// other.
func (in *instance) teeBody(b *body) body {
	switch b.kind {
	case bodyBytes, bodyString, bodyNone:
		return *b
	}
	s := in.bodyStream(b).(*goja.Object)
	pair, err := in.programFunc("streams", "tee")(goja.Undefined(), s)
	if err != nil {
		panic(err)
	}
	po := pair.ToObject(in.vm)
	b.stream = po.Get("0").(*goja.Object)
	return body{kind: bodyStream, stream: po.Get("1").(*goja.Object)}
}

// How a body is consumed.
type consumeMode uint8

const (
	asText consumeMode = iota
	asJSON
	asArrayBuffer
	asBytes
	asBlob
	asFormData
)

const errBodyUsed = "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."

// consume reads the whole body and returns a promise of it in mode.
// contentType is the owner's Content-Type (for blob() and formData()).
func (in *instance) consume(b *body, mode consumeMode, contentType func() string) goja.Value {
	if in.bodyUsed(b) {
		return in.rejected(in.vm.NewTypeError("%s", errBodyUsed))
	}
	switch b.kind {
	case bodyNone:
		return in.promiseTry(func() goja.Value { return in.bodyValue(nil, "", mode, contentType) })
	case bodyBytes:
		b.used = true
		data := b.bytes
		return in.promiseTry(func() goja.Value { return in.bodyValue(data, "", mode, contentType) })
	case bodyString:
		b.used = true
		s := b.str
		return in.promiseTry(func() goja.Value { return in.bodyValue(nil, s, mode, contentType) })
	case bodyReader:
		b.used = true
		r := b.reader
		b.reader = nil
		return in.offLoop(func() (func() goja.Value, error) {
			data, err := readAllLimited(r, in.mod.limits.maxBodyBytes())
			if err != nil {
				return nil, err
			}
			return func() goja.Value { return in.bodyValue(data, "", mode, contentType) }, nil
		})
	}
	// A JS stream: read it to the end in JS, then convert.
	if in.streamLocked(b.stream) {
		return in.rejected(in.vm.NewTypeError("%s", "This ReadableStream is currently locked to a reader."))
	}
	p, err := in.programFunc("streams", "readAll")(goja.Undefined(), b.stream)
	if err != nil {
		return in.rejected(errValue(in, err))
	}
	return in.then(p, func(v goja.Value) goja.Value {
		data, _ := in.bufferBytes(v)
		return in.bodyValue(data, "", mode, contentType)
	})
}

// bodyValue converts a read body (data, or s when it was a string).
func (in *instance) bodyValue(data []byte, s string, mode consumeMode, contentType func() string) goja.Value {
	switch mode {
	case asText:
		if data != nil {
			return in.vm.ToValue(decodeUTF8(data, true))
		}
		return in.vm.ToValue(s)
	case asJSON:
		text := s
		if data != nil {
			text = decodeUTF8(data, true)
		}
		v, err := in.jsonParse()(goja.Undefined(), in.vm.ToValue(text))
		if err != nil {
			panic(errValue(in, err))
		}
		return v
	case asArrayBuffer:
		return in.newArrayBuffer(copyOf(data, s))
	case asBytes:
		return in.newUint8Array(copyOf(data, s))
	case asBlob:
		return in.wrap(blobClass, &blob{in: in, data: copyOf(data, s), typ: normalizeContentType(contentType())})
	case asFormData:
		return in.parseFormBody(copyOf(data, s), contentType())
	}
	return goja.Undefined()
}

func copyOf(data []byte, s string) []byte {
	if data == nil {
		return []byte(s)
	}
	return append([]byte(nil), data...)
}

// parseFormBody is Body.formData(): multipart or urlencoded.
func (in *instance) parseFormBody(data []byte, contentType string) goja.Value {
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err == nil && mt == "multipart/form-data":
		fd, err := parseMultipart(data, params["boundary"])
		if err != nil {
			in.throwTypeError("Failed to parse the body as multipart/form-data: " + err.Error())
		}
		return in.wrap(formDataClass, fd)
	case err == nil && mt == "application/x-www-form-urlencoded":
		fd := &formData{}
		for _, p := range formParse(string(data)) {
			fd.entries = append(fd.entries, formEntry{name: p.name, value: p.value})
		}
		return in.wrap(formDataClass, fd)
	}
	in.throwTypeError(fmt.Sprintf("Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded (got %q)", contentType))
	return nil
}

// errValue is the JS value of an error from a JS call.
func errValue(in *instance, err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	return in.newError("Error", err.Error())
}

func readAllLimited(r io.ReadCloser, limit int64) ([]byte, error) {
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the body is larger than %d bytes, the most a worker can buffer; read it as a stream", limit)
	}
	return data, nil
}

// blobType is a Content-Type as Blob.type: lowercase, or "" when invalid.
func blobType(ct string) string {
	for i := 0; i < len(ct); i++ {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return ""
		}
	}
	return strings.ToLower(ct)
}

// bodyMethods are the Body mixin's methods for a class whose Go type
// exposes its body and content type.
func bodyMethods[T interface {
	*request | *response
	bodyOf() (*body, func() string)
}](m map[string]method) map[string]method {
	mk := func(mode consumeMode) method {
		return func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b, ct := thisAs[T](in, this).bodyOf()
			return in.consume(b, mode, ct)
		}
	}
	m["text"] = mk(asText)
	m["json"] = mk(asJSON)
	m["arrayBuffer"] = mk(asArrayBuffer)
	m["bytes"] = mk(asBytes)
	m["blob"] = mk(asBlob)
	m["formData"] = mk(asFormData)
	return m
}
