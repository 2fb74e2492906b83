package logs

import (
	"time"
	"unicode/utf8"
)

// appendEntries encodes es as a JSON array that encoding/json decodes to
// the same entries (the readers use it), without reflection: the
// store encodes every request's access entry, and json.Marshal was 3% of
// a node's CPU time under a hello-world load (docs/performance.md).
func appendEntries(b []byte, es []Entry) []byte {
	b = append(b, '[')
	for i := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEntry(b, &es[i])
	}
	return append(b, ']')
}

func appendEntry(b []byte, e *Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","service":`...)
	b = appendJSONString(b, e.Service)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, e.Version)
	if e.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, e.RequestID)
	}
	if e.TraceID != "" {
		b = append(b, `,"trace_id":`...)
		b = appendJSONString(b, e.TraceID)
	}
	b = append(b, `,"level":`...)
	b = appendJSONString(b, string(e.Level))
	if e.Kind != "" {
		b = append(b, `,"kind":`...)
		b = appendJSONString(b, e.Kind)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (so the
// stored message is valid JSON whatever a guest wrote).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		// A valid rune from here takes two bytes or more; one is invalid.
		if _, size := utf8.DecodeRuneInString(s[i:]); size > 1 {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, `\ufffd`...)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
