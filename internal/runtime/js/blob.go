package js

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Blob and File (https://w3c.github.io/FileAPI/) and FormData
// (https://xhr.spec.whatwg.org/#interface-formdata), with multipart and
// urlencoded parsing for Body.formData().

type blob struct {
	base
	in       *instance
	data     []byte
	typ      string
	isFile   bool
	name     string
	modified int64
}

func blobMethods() map[string]method {
	return map[string]method{
		"slice": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*blob](in, this)
			n := int64(len(b.data))
			start, end := int64(0), n
			if v := arg(args, 0); !goja.IsUndefined(v) {
				start = relIndex(v.ToInteger(), n)
			}
			if v := arg(args, 1); !goja.IsUndefined(v) {
				end = relIndex(v.ToInteger(), n)
			}
			typ := ""
			if v := arg(args, 2); !goja.IsUndefined(v) {
				typ = blobType(in.toString(v))
			}
			if end < start {
				end = start
			}
			return in.wrap(blobClass, &blob{in: in, data: b.data[start:end:end], typ: typ})
		},
		"text": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*blob](in, this)
			return in.resolved(decodeUTF8(b.data, false))
		},
		"arrayBuffer": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*blob](in, this)
			return in.resolved(in.newArrayBuffer(append([]byte(nil), b.data...)))
		},
		"bytes": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*blob](in, this)
			return in.resolved(in.newUint8Array(append([]byte(nil), b.data...)))
		},
		"stream": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			b := thisAs[*blob](in, this)
			s, err := in.programFunc("streams", "fromBytes")(goja.Undefined(), in.newUint8Array(append([]byte(nil), b.data...)))
			if err != nil {
				panic(err)
			}
			return s
		},
	}
}

func relIndex(i, n int64) int64 {
	if i < 0 {
		i += n
		if i < 0 {
			i = 0
		}
	}
	if i > n {
		i = n
	}
	return i
}

var blobClass = defineClass(&classDef{name: "Blob"})

func init() {
	blobClass.set(classDef{
		attrs: []string{"size", "type"},
		name:  "Blob",
		construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
			b := &blob{in: in, data: in.blobParts(arg(args, 0))}
			if o, ok := arg(args, 1).(*goja.Object); ok {
				if t := o.Get("type"); t != nil && !goja.IsUndefined(t) {
					b.typ = blobType(in.toString(t))
				}
			}
			return in.wrapProto(proto, b)
		},
		methods: blobMethods(),
	})
}

var fileClass = defineClass(&classDef{
	name:   "File",
	parent: blobClass,
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		if len(args) < 2 {
			in.throwTypeError(fmt.Sprintf("Failed to construct 'File': 2 arguments required, but only %d present.", len(args)))
		}
		b := &blob{in: in, data: in.blobParts(args[0]), isFile: true, name: in.toString(args[1]), modified: time.Now().UnixMilli()}
		if o, ok := arg(args, 2).(*goja.Object); ok {
			if t := o.Get("type"); t != nil && !goja.IsUndefined(t) {
				b.typ = blobType(in.toString(t))
			}
			if m := o.Get("lastModified"); m != nil && !goja.IsUndefined(m) {
				b.modified = m.ToInteger()
			}
		}
		return in.wrapProto(proto, b)
	},
	methods: map[string]method{},
})

func init() {
	defineGlobal("Blob", classGlobal(blobClass))
	defineGlobal("File", classGlobal(fileClass))
	defineHost("cloneBlob", func(in *instance, this goja.Value, args []goja.Value) goja.Value {
		b := thisAs[*blob](in, arg(args, 0))
		c := *b
		c.base = base{}
		if c.isFile {
			return in.wrap(fileClass, &c)
		}
		return in.wrap(blobClass, &c)
	})
}

func (b *blob) Get(key string) goja.Value {
	switch key {
	case "size":
		return b.in.vm.ToValue(len(b.data))
	case "type":
		return b.in.vm.ToValue(b.typ)
	case "name":
		if b.isFile {
			return b.in.vm.ToValue(b.name)
		}
	case "lastModified":
		if b.isFile {
			return b.in.vm.ToValue(b.modified)
		}
	}
	return b.expando.get(key)
}

func (b *blob) Set(key string, v goja.Value) bool {
	switch key {
	case "size", "type":
		return false
	case "name", "lastModified":
		if b.isFile {
			return false
		}
	}
	b.setExpando(key, v)
	return true
}

// blobParts concatenates a sequence of BlobParts.
func (in *instance) blobParts(v goja.Value) []byte {
	if goja.IsUndefined(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		in.throwTypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.")
	}
	var out []byte
	in.vm.ForOf(o, func(p goja.Value) bool {
		if po, ok := p.(*goja.Object); ok {
			if b, ok := po.Export().(*blob); ok {
				out = append(out, b.data...)
				return true
			}
			if b, ok := in.bufferBytes(po); ok {
				out = append(out, b...)
				return true
			}
		}
		out = append(out, in.toString(p)...)
		return true
	})
	return out
}

// FormData

type formEntry struct {
	name  string
	value string
	file  *blob // non-nil for a file entry
}

type formData struct {
	base
	entries []formEntry
}

var formDataClass = defineClass(&classDef{
	name:     "FormData",
	iterator: "entries",
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		if !goja.IsUndefined(arg(args, 0)) {
			in.throwTypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.")
		}
		return in.wrapProto(proto, &formData{})
	},
	methods: map[string]method{
		"append": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			f.entries = append(f.entries, in.formEntry(args))
			return goja.Undefined()
		},
		"set": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			e := in.formEntry(args)
			found := false
			j := 0
			for _, x := range f.entries {
				if x.name == e.name {
					if found {
						continue
					}
					found, x = true, e
				}
				f.entries[j] = x
				j++
			}
			f.entries = f.entries[:j]
			if !found {
				f.entries = append(f.entries, e)
			}
			return goja.Undefined()
		},
		"delete": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			name := in.toString(arg(args, 0))
			j := 0
			for _, x := range f.entries {
				if x.name != name {
					f.entries[j] = x
					j++
				}
			}
			f.entries = f.entries[:j]
			return goja.Undefined()
		},
		"get": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			name := in.toString(arg(args, 0))
			for _, x := range f.entries {
				if x.name == name {
					return in.formValue(x)
				}
			}
			return goja.Null()
		},
		"getAll": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			name := in.toString(arg(args, 0))
			var items []any
			for _, x := range f.entries {
				if x.name == name {
					items = append(items, in.formValue(x))
				}
			}
			return in.vm.NewArray(items...)
		},
		"has": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			name := in.toString(arg(args, 0))
			for _, x := range f.entries {
				if x.name == name {
					return in.vm.ToValue(true)
				}
			}
			return in.vm.ToValue(false)
		},
		"forEach": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			cb, ok := goja.AssertFunction(arg(args, 0))
			if !ok {
				in.throwTypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.")
			}
			for i := 0; i < len(f.entries); i++ {
				x := f.entries[i]
				if _, err := cb(arg(args, 1), in.formValue(x), in.vm.ToValue(x.name), this); err != nil {
					panic(err)
				}
			}
			return goja.Undefined()
		},
		"entries": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			items := make([]any, len(f.entries))
			for i, x := range f.entries {
				items[i] = in.vm.NewArray(x.name, in.formValue(x))
			}
			return in.arrayIterator(items)
		},
		"keys": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			items := make([]any, len(f.entries))
			for i, x := range f.entries {
				items[i] = x.name
			}
			return in.arrayIterator(items)
		},
		"values": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			f := thisAs[*formData](in, this)
			items := make([]any, len(f.entries))
			for i, x := range f.entries {
				items[i] = in.formValue(x)
			}
			return in.arrayIterator(items)
		},
	},
})

func init() { defineGlobal("FormData", classGlobal(formDataClass)) }

func (f *formData) Get(key string) goja.Value         { return f.expando.get(key) }
func (f *formData) Set(key string, v goja.Value) bool { f.setExpando(key, v); return true }

// formEntry reads (name, value[, filename]).
func (in *instance) formEntry(args []goja.Value) formEntry {
	if len(args) < 2 {
		in.throwTypeError(fmt.Sprintf("Failed to execute 'append' on 'FormData': 2 arguments required, but only %d present.", len(args)))
	}
	e := formEntry{name: in.toString(args[0])}
	if o, ok := args[1].(*goja.Object); ok {
		if b, ok := o.Export().(*blob); ok {
			f := &blob{in: in, data: b.data, typ: b.typ, isFile: true, name: "blob", modified: time.Now().UnixMilli()}
			if b.isFile {
				f.name, f.modified = b.name, b.modified
			}
			if fn := arg(args, 2); !goja.IsUndefined(fn) {
				f.name = in.toString(fn)
			}
			e.file = f
			return e
		}
	}
	e.value = in.toString(args[1])
	return e
}

func (in *instance) formValue(e formEntry) goja.Value {
	if e.file != nil {
		c := *e.file
		c.base = base{}
		c.in = in
		return in.wrap(fileClass, &c)
	}
	return in.vm.ToValue(e.value)
}

// multipart serializes the form as multipart/form-data.
func (f *formData) multipart() ([]byte, string) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	boundary := "----formdata-wisp-" + hex.EncodeToString(rnd[:])
	var buf bytes.Buffer
	esc := strings.NewReplacer("\n", "%0A", "\r", "%0D", `"`, "%22")
	for _, e := range f.entries {
		buf.WriteString("--" + boundary + "\r\n")
		if e.file == nil {
			buf.WriteString(`Content-Disposition: form-data; name="` + esc.Replace(e.name) + "\"\r\n\r\n")
			buf.WriteString(strings.ReplaceAll(strings.ReplaceAll(e.value, "\r\n", "\n"), "\n", "\r\n"))
		} else {
			buf.WriteString(`Content-Disposition: form-data; name="` + esc.Replace(e.name) + `"; filename="` + esc.Replace(e.file.name) + "\"\r\n")
			typ := e.file.typ
			if typ == "" {
				typ = "application/octet-stream"
			}
			buf.WriteString("Content-Type: " + typ + "\r\n\r\n")
			buf.Write(e.file.data)
		}
		buf.WriteString("\r\n")
	}
	buf.WriteString("--" + boundary + "--\r\n")
	return buf.Bytes(), boundary
}

// parseMultipart parses a multipart/form-data body.
func parseMultipart(data []byte, boundary string) (*formData, error) {
	if boundary == "" {
		return nil, errors.New("the Content-Type has no boundary")
	}
	r := multipart.NewReader(bytes.NewReader(data), boundary)
	fd := &formData{}
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return fd, nil
		}
		if err != nil {
			return nil, err
		}
		name := p.FormName()
		content, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		_, params, _ := parseDisposition(p.Header)
		if fn, ok := params["filename"]; ok {
			fd.entries = append(fd.entries, formEntry{name: name, file: &blob{data: content, typ: p.Header.Get("Content-Type"), isFile: true, name: fn, modified: time.Now().UnixMilli()}})
			continue
		}
		fd.entries = append(fd.entries, formEntry{name: name, value: decodeUTF8(content, false)})
	}
}

func parseDisposition(h textproto.MIMEHeader) (string, map[string]string, error) {
	v := h.Get("Content-Disposition")
	return mime.ParseMediaType(v)
}
