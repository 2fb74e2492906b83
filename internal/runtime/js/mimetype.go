package js

import "strings"

// MIME types as https://mimesniff.spec.whatwg.org/ parses and serializes
// them (Body.blob() reports the Content-Type in this form).

type mimeParam struct{ name, value string }

type mimeType struct {
	typ, subtype string
	params       []mimeParam
}

const httpWhitespace = "\t\n\r "

// parseMIME returns the MIME type s holds, or false.
func parseMIME(s string) (mimeType, bool) {
	s = strings.Trim(s, httpWhitespace)
	slash := strings.IndexByte(s, '/')
	if slash <= 0 {
		return mimeType{}, false
	}
	m := mimeType{typ: strings.ToLower(s[:slash])}
	rest := s[slash+1:]
	semi := strings.IndexByte(rest, ';')
	if semi < 0 {
		semi = len(rest)
	}
	m.subtype = strings.ToLower(strings.TrimRight(rest[:semi], httpWhitespace))
	if !isToken(m.typ) || m.subtype == "" || !isToken(m.subtype) {
		return mimeType{}, false
	}
	rest = rest[semi:]
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest[1:], httpWhitespace) // the ';'
		end := strings.IndexAny(rest, ";=")
		if end < 0 {
			break
		}
		name := strings.ToLower(rest[:end])
		rest = rest[end:]
		if rest[0] == ';' {
			continue
		}
		rest = rest[1:] // '='
		var value string
		if strings.HasPrefix(rest, `"`) {
			value, rest = quotedString(rest)
			if i := strings.IndexByte(rest, ';'); i >= 0 {
				rest = rest[i:]
			} else {
				rest = ""
			}
		} else {
			i := strings.IndexByte(rest, ';')
			if i < 0 {
				i = len(rest)
			}
			value = strings.TrimRight(rest[:i], httpWhitespace)
			rest = rest[i:]
			if value == "" {
				continue
			}
		}
		if name != "" && isToken(name) && validParamValue(value) && !m.has(name) {
			m.params = append(m.params, mimeParam{name, value})
		}
	}
	return m, true
}

func (m mimeType) has(name string) bool {
	for _, p := range m.params {
		if p.name == name {
			return true
		}
	}
	return false
}

func (m mimeType) String() string {
	var b strings.Builder
	b.WriteString(m.typ)
	b.WriteByte('/')
	b.WriteString(m.subtype)
	for _, p := range m.params {
		b.WriteByte(';')
		b.WriteString(p.name)
		b.WriteByte('=')
		if p.value != "" && isToken(p.value) {
			b.WriteString(p.value)
			continue
		}
		b.WriteByte('"')
		for _, r := range p.value {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	return b.String()
}

// quotedString collects an HTTP quoted string starting at s[0] == '"'
// (value extracted) and returns the rest.
func quotedString(s string) (string, string) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		i++
		switch c {
		case '\\':
			if i >= len(s) {
				b.WriteByte('\\')
				return b.String(), ""
			}
			b.WriteByte(s[i])
			i++
		case '"':
			return b.String(), s[i:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func validParamValue(v string) bool {
	for _, r := range v {
		if !(r == '\t' || r >= 0x20 && r <= 0x7e || r >= 0x80 && r <= 0xff) {
			return false
		}
	}
	return true
}

// normalizeContentType is a Content-Type value as Body.blob() reports it:
// serialized when it parses, empty when it does not.
func normalizeContentType(ct string) string {
	m, ok := parseMIME(ct)
	if !ok {
		return ""
	}
	return m.String()
}
