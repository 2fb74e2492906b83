package js

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// TextEncoder, TextDecoder (https://encoding.spec.whatwg.org/), atob and
// btoa (https://html.spec.whatwg.org/#atob).

type textEncoder struct{ base }

var textEncoderClass = defineClass(&classDef{
	name: "TextEncoder",
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		return in.wrapProto(proto, &textEncoder{})
	},
	methods: map[string]method{
		"encode": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			thisAs[*textEncoder](in, this)
			s := ""
			if v := arg(args, 0); !goja.IsUndefined(v) {
				s = in.toString(v)
			}
			return in.newUint8Array([]byte(s))
		},
		"encodeInto": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			thisAs[*textEncoder](in, this)
			s := in.toString(arg(args, 0))
			dst, ok := in.bufferBytes(arg(args, 1))
			if !ok {
				in.throwTypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.")
			}
			read, written := 0, 0
			for _, r := range s {
				n := utf8.RuneLen(r)
				if n < 0 {
					r, n = utf8.RuneError, 3
				}
				if written+n > len(dst) {
					break
				}
				utf8.EncodeRune(dst[written:], r)
				written += n
				read++
				if r >= 0x10000 {
					read++
				}
			}
			o := in.vm.NewObject()
			_ = o.Set("read", read)
			_ = o.Set("written", written)
			return o
		},
	},
})

func (e *textEncoder) Get(key string) goja.Value {
	if key == "encoding" {
		return stringValue("utf-8")
	}
	return e.expando.get(key)
}
func (e *textEncoder) Set(key string, v goja.Value) bool {
	if key == "encoding" {
		return false
	}
	e.setExpando(key, v)
	return true
}

type textDecoder struct {
	base
	name      string
	enc       encoding.Encoding // nil for UTF-8
	dec       *encoding.Decoder
	fatal     bool
	ignoreBOM bool
	pending   []byte // bytes of an incomplete sequence kept between stream calls
	bomSeen   bool
}

var textDecoderClass = defineClass(&classDef{
	name: "TextDecoder",
	construct: func(in *instance, args []goja.Value, proto *goja.Object) *goja.Object {
		label := "utf-8"
		if v := arg(args, 0); !goja.IsUndefined(v) {
			label = strings.ToLower(strings.Trim(in.toString(v), "\t\n\f\r "))
		}
		d := &textDecoder{name: "utf-8"}
		if label != "utf-8" && label != "utf8" && label != "unicode-1-1-utf-8" {
			enc, err := htmlindex.Get(label)
			if err != nil || label == "replacement" {
				in.throwError("RangeError", "Failed to construct 'TextDecoder': The encoding label provided ('"+label+"') is invalid.")
			}
			name, _ := htmlindex.Name(enc)
			if name != "utf-8" {
				d.name, d.enc = name, enc
			}
		}
		if o, ok := arg(args, 1).(*goja.Object); ok {
			if v := o.Get("fatal"); v != nil {
				d.fatal = v.ToBoolean()
			}
			if v := o.Get("ignoreBOM"); v != nil {
				d.ignoreBOM = v.ToBoolean()
			}
		}
		return in.wrapProto(proto, d)
	},
	methods: map[string]method{
		"decode": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			d := thisAs[*textDecoder](in, this)
			var data []byte
			if v := arg(args, 0); !isNullish(v) {
				b, ok := in.bufferBytes(v)
				if !ok {
					in.throwTypeError("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView'.")
				}
				data = b
			}
			stream := false
			if o, ok := arg(args, 1).(*goja.Object); ok {
				if v := o.Get("stream"); v != nil {
					stream = v.ToBoolean()
				}
			}
			s, ok := d.decode(data, stream)
			if !ok {
				in.throwTypeError("Failed to execute 'decode' on 'TextDecoder': The encoded data was not valid.")
			}
			return in.vm.ToValue(s)
		},
	},
})

func (d *textDecoder) Get(key string) goja.Value {
	switch key {
	case "encoding":
		return stringValue(d.name)
	case "fatal":
		return boolValue(d.fatal)
	case "ignoreBOM":
		return boolValue(d.ignoreBOM)
	}
	return d.expando.get(key)
}

func (d *textDecoder) Set(key string, v goja.Value) bool {
	switch key {
	case "encoding", "fatal", "ignoreBOM":
		return false
	}
	d.setExpando(key, v)
	return true
}

func init() {
	defineGlobal("TextEncoder", classGlobal(textEncoderClass))
	defineGlobal("TextDecoder", classGlobal(textDecoderClass))
	defineGlobal("atob", funcGlobal(atob))
	defineGlobal("btoa", funcGlobal(btoa))
}

// decode decodes data; ok is false when fatal and the data is invalid.
func (d *textDecoder) decode(data []byte, stream bool) (string, bool) {
	if d.enc != nil {
		return d.decodeLegacy(data, stream)
	}
	if len(d.pending) > 0 {
		data = append(d.pending, data...)
		d.pending = nil
	}
	if stream {
		// Keep an incomplete sequence at the end for the next call.
		if n := incompleteTail(data); n > 0 {
			d.pending = append([]byte(nil), data[len(data)-n:]...)
			data = data[:len(data)-n]
		}
	}
	if !d.ignoreBOM && !d.bomSeen && len(data) > 0 {
		if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
			data = data[3:]
		}
		d.bomSeen = true
	}
	if !stream {
		d.bomSeen = false
	}
	if d.fatal && !utf8.Valid(data) {
		return "", false
	}
	return decodeUTF8(data, false), true
}

func (d *textDecoder) decodeLegacy(data []byte, stream bool) (string, bool) {
	if d.dec == nil {
		d.dec = d.enc.NewDecoder()
	}
	if len(d.pending) > 0 {
		data = append(d.pending, data...)
		d.pending = nil
	}
	out := make([]byte, 0, len(data)*2+8)
	buf := make([]byte, 4096)
	src := data
	for {
		nDst, nSrc, err := d.dec.Transform(buf, src, !stream)
		out = append(out, buf[:nDst]...)
		src = src[nSrc:]
		if err == nil {
			break
		}
		if err.Error() == "transform: short source" && stream {
			d.pending = append([]byte(nil), src...)
			break
		}
		if err.Error() != "transform: short destination" {
			break
		}
	}
	if !stream {
		d.dec = nil
	}
	s := string(out)
	if !d.ignoreBOM && strings.HasPrefix(s, "\uFEFF") && (d.name == "utf-16le" || d.name == "utf-16be") {
		s = s[3:]
	}
	if d.fatal && strings.ContainsRune(s, utf8.RuneError) && !strings.Contains(string(data), "\xef\xbf\xbd") {
		return "", false
	}
	return s, true
}

// incompleteTail returns how many bytes at the end of b start a UTF-8
// sequence that more bytes could complete.
func incompleteTail(b []byte) int {
	for n := 1; n <= 3 && n <= len(b); n++ {
		c := b[len(b)-n]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			need := 0
			switch {
			case c >= 0xC2 && c <= 0xDF:
				need = 2
			case c >= 0xE0 && c <= 0xEF:
				need = 3
			case c >= 0xF0 && c <= 0xF4:
				need = 4
			}
			if need > n {
				return n
			}
			return 0
		}
	}
	return 0
}

// decodeUTF8 is the WHATWG UTF-8 decode: each maximal invalid subpart
// becomes one U+FFFD, and a leading BOM is dropped when stripBOM.
func decodeUTF8(b []byte, stripBOM bool) string {
	if stripBOM && len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		b = b[3:]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		var need int
		lower, upper := byte(0x80), byte(0xBF)
		var cp rune
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need, cp = 1, rune(c&0x1F)
		case c >= 0xE0 && c <= 0xEF:
			if c == 0xE0 {
				lower = 0xA0
			}
			if c == 0xED {
				upper = 0x9F
			}
			need, cp = 2, rune(c&0x0F)
		case c >= 0xF0 && c <= 0xF4:
			if c == 0xF0 {
				lower = 0x90
			}
			if c == 0xF4 {
				upper = 0x8F
			}
			need, cp = 3, rune(c&0x07)
		default:
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j, ok := i+1, true
		for k := 0; k < need; k++ {
			if j >= len(b) || b[j] < lower || b[j] > upper {
				ok = false
				break
			}
			lower, upper = 0x80, 0xBF
			cp = cp<<6 | rune(b[j]&0x3F)
			j++
		}
		if !ok {
			sb.WriteRune(utf8.RuneError)
			i = j
			continue
		}
		sb.WriteRune(cp)
		i = j
	}
	return sb.String()
}

func atob(in *instance, this goja.Value, args []goja.Value) goja.Value {
	if len(args) == 0 {
		in.throwTypeError("Failed to execute 'atob': 1 argument required, but only 0 present.")
	}
	s := in.toString(args[0])
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\f', '\r', ' ':
		default:
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 0 {
		if n := len(clean); n > 0 && clean[n-1] == '=' {
			clean = clean[:n-1]
			if n > 1 && clean[n-2] == '=' {
				clean = clean[:n-2]
			}
		}
	}
	bad := len(clean)%4 == 1
	for _, c := range clean {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			bad = true
			break
		}
	}
	var out []byte
	if !bad {
		var err error
		// Go's decoder, like the forgiving one, ignores non-zero
		// trailing bits.
		out, err = base64.RawStdEncoding.DecodeString(string(clean))
		bad = err != nil
	}
	if bad {
		in.throwDOM("InvalidCharacterError", "atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)")
	}
	return in.vm.ToValue(latin1String(out))
}

func btoa(in *instance, this goja.Value, args []goja.Value) goja.Value {
	if len(args) == 0 {
		in.throwTypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.")
	}
	s := in.toString(args[0])
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			in.throwDOM("InvalidCharacterError", "btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.")
		}
		b = append(b, byte(r))
	}
	return in.vm.ToValue(base64.StdEncoding.EncodeToString(b))
}

// latin1String maps each byte to the code point of the same value.
func latin1String(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// primitives makes runtime-independent primitive values.
var primitives = goja.New()

func stringValue(s string) goja.Value { return primitives.ToValue(s) }

func boolValue(b bool) goja.Value { return primitives.ToValue(b) }
