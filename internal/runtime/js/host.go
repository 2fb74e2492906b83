package js

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	whatwg "github.com/nlnwa/whatwg-url/url"

	"github.com/wisp-run/wisp/internal/logs"
)

// urlParser is WHATWG-conformant; one is shared by every runtime.
var urlParser = whatwg.NewParser()

// urlHandle is the Go side of a JS URL object. Its methods are called from
// the prelude's URL class.
type urlHandle struct{ u *whatwg.Url }

func (h *urlHandle) Href() string         { return h.u.Href(false) }
func (h *urlHandle) Protocol() string     { return h.u.Protocol() }
func (h *urlHandle) SetProtocol(s string) { h.u.SetProtocol(s) }
func (h *urlHandle) Username() string     { return h.u.Username() }
func (h *urlHandle) SetUsername(s string) { h.u.SetUsername(s) }
func (h *urlHandle) Password() string     { return h.u.Password() }
func (h *urlHandle) SetPassword(s string) { h.u.SetPassword(s) }
func (h *urlHandle) Host() string         { return h.u.Host() }
func (h *urlHandle) SetHost(s string)     { h.u.SetHost(s) }
func (h *urlHandle) Hostname() string     { return h.u.Hostname() }
func (h *urlHandle) SetHostname(s string) { h.u.SetHostname(s) }
func (h *urlHandle) Port() string         { return h.u.Port() }
func (h *urlHandle) SetPort(s string)     { h.u.SetPort(s) }
func (h *urlHandle) Pathname() string     { return h.u.Pathname() }
func (h *urlHandle) SetPathname(s string) { h.u.SetPathname(s) }
func (h *urlHandle) Search() string       { return h.u.Search() }
func (h *urlHandle) SetSearch(s string)   { h.u.SetSearch(s) }
func (h *urlHandle) Query() string        { return h.u.Query() }
func (h *urlHandle) Hash() string         { return h.u.Hash() }
func (h *urlHandle) SetHash(s string)     { h.u.SetHash(s) }

// Origin is the URL's ASCII serialized origin.
func (h *urlHandle) Origin() string {
	switch h.u.Scheme() {
	case "http", "https", "ws", "wss", "ftp":
		return h.u.Protocol() + "//" + h.u.Host()
	case "blob":
		if inner, err := urlParser.Parse(h.u.Pathname()); err == nil {
			if s := inner.Scheme(); s == "http" || s == "https" {
				return (&urlHandle{inner}).Origin()
			}
		}
	}
	return "null"
}

// host holds the Go functions the prelude calls, bound to one instance.
type host struct {
	in *instance
}

func (h *host) object(vm *goja.Runtime) *goja.Object {
	o := vm.NewObject()
	set := func(name string, fn any) { _ = o.Set(name, fn) }
	set("urlParse", func(input string, base goja.Value) any {
		var u *whatwg.Url
		var err error
		if base == nil || goja.IsUndefined(base) {
			u, err = urlParser.Parse(input)
		} else {
			u, err = urlParser.ParseRef(base.String(), input)
		}
		if err != nil {
			return nil
		}
		return &urlHandle{u}
	})
	set("formParse", formParse)
	set("formSerialize", formSerialize)
	set("utf8Encode", func(s string) goja.ArrayBuffer { return vm.NewArrayBuffer([]byte(s)) })
	set("utf8Decode", func(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") })
	set("log", func(level, msg string) { h.in.log(logs.Level(level), msg) })
	set("now", func() float64 { return float64(time.Since(h.in.created).Nanoseconds()) / 1e6 })
	set("setTimer", func(fn goja.Callable, delay float64, repeat bool) int64 {
		return h.in.loop.setTimer(fn, delay, repeat)
	})
	set("clearTimer", func(id int64) { h.in.loop.clearTimer(id) })
	return o
}

// formParse is the application/x-www-form-urlencoded parser
// (https://url.spec.whatwg.org/#urlencoded-parsing), flattened to
// [name, value, name, value, ...].
func formParse(s string) []string {
	var out []string
	for len(s) > 0 {
		var seq string
		seq, s, _ = strings.Cut(s, "&")
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		out = append(out, formDecode(name), formDecode(value))
	}
	return out
}

func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// formSerialize is the application/x-www-form-urlencoded serializer.
func formSerialize(flat []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(flat); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		formEncode(&b, flat[i])
		b.WriteByte('=')
		formEncode(&b, flat[i+1])
	}
	return b.String()
}

func formEncode(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
