package keyspace

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxKeyBytes is the longest key a space stores (R2 object keys are up to
// 1024 bytes; KV keys up to 512). Its subject is about 3 bytes per key
// byte, well inside NATS' 4 KiB control line.
const MaxKeyBytes = 1024

const hexDigits = "0123456789abcdef"

// terminator ends every encoded key, so that a key prefix is a subject
// prefix ("ab" is "61.62._" and "abc" is "61.62.63._": both match
// "61.62.>").
const terminator = "_"

// tokenRe is what a space token may be: the characters NATS KV allows in a
// key, without '.', so that each token is exactly one subject token.
var tokenRe = regexp.MustCompile(`^[-/_=a-zA-Z0-9]{1,128}$`)

// ValidToken reports whether s can be one token of a space's prefix.
func ValidToken(s string) bool { return tokenRe.MatchString(s) }

// encodeKey writes key as subject tokens: two lowercase hex digits per
// byte, '.'-separated, then the terminator.
func encodeKey(b *strings.Builder, key string) {
	for i := 0; i < len(key); i++ {
		c := key[i]
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
		b.WriteByte('.')
	}
	b.WriteString(terminator)
}

// encodePrefix writes the subject filter tokens for every key starting
// with prefix: its bytes as hex tokens followed by ">".
func encodePrefix(b *strings.Builder, prefix string) {
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
		b.WriteByte('.')
	}
	b.WriteString(">")
}

var errNotKey = errors.New("not an encoded key")

// decodeKey is the inverse of encodeKey.
func decodeKey(s string) (string, error) {
	if !strings.HasSuffix(s, terminator) {
		return "", errNotKey
	}
	s = s[:len(s)-len(terminator)]
	if len(s)%3 != 0 {
		return "", errNotKey
	}
	out := make([]byte, len(s)/3)
	for i := range out {
		hi, ok1 := unhex(s[3*i])
		lo, ok2 := unhex(s[3*i+1])
		if !ok1 || !ok2 || s[3*i+2] != '.' {
			return "", errNotKey
		}
		out[i] = hi<<4 | lo
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > MaxKeyBytes:
		return fmt.Errorf("key of %d bytes is over the limit of %d", len(key), MaxKeyBytes)
	}
	return nil
}
