package gateway

import (
	"net/http"
	"strings"
)

// PrefersAsync reports whether the request's Prefer headers (RFC 7240)
// ask for respond-async. Preferences are comma-separated, each a token
// with an optional "=value" and ";"-separated parameters; values may be
// quoted strings, which may hold commas and semicolons.
func PrefersAsync(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for _, pref := range splitQuoted(v, ',') {
			name, _, _ := strings.Cut(splitQuoted(pref, ';')[0], "=")
			if strings.EqualFold(strings.TrimSpace(name), "respond-async") {
				return true
			}
		}
	}
	return false
}

// splitQuoted splits s at sep outside double-quoted strings (with
// backslash escapes inside them).
func splitQuoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
