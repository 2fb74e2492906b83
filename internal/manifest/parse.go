package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Problem is one thing wrong with a manifest.
type Problem struct {
	Key  string // dotted key, e.g. "limits.memory_mb" or "routes[1]"; empty for the whole file
	Line int    // 1-based line when known, else 0
	Msg  string
}

// Error lists every problem found in one manifest file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
		if p.Key != "" {
			b.WriteString(p.Key + ": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Parse decodes and validates the manifest in data. file names it in
// errors. Unknown keys, wrong types and invalid values are all reported,
// each naming its key; the returned error is then an *Error.
func Parse(file string, data []byte) (*Manifest, error) {
	var m Manifest
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		return nil, &Error{File: file, Problems: []Problem{decodeProblem(err)}}
	}
	var probs []Problem
	for _, k := range md.Undecoded() {
		if len(k) > 1 && k[0] == "vars" {
			continue // [vars] takes any table; the decoder still reports nested keys
		}
		probs = append(probs, unknownKey(k))
	}
	probs = append(probs, validate(&m)...)
	if len(probs) > 0 {
		return nil, &Error{File: file, Problems: probs}
	}
	m.Buckets = append(m.Buckets, m.R2Buckets...)
	m.R2Buckets = nil
	applyDefaults(&m)
	return &m, nil
}

func unknownKey(k toml.Key) Problem {
	return Problem{Key: k.String(), Msg: "unknown key"}
}

var typeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): incompatible types: TOML value has type (\S+); destination has type (\S+)$`)

// decodeProblem turns the TOML decoder's error into a Problem with a line,
// a key and a sentence a user can act on.
func decodeProblem(err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return Problem{Key: pe.LastKey, Line: pe.Position.Line, Msg: "invalid TOML: " + pe.Message}
	}
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Key: m[2], Line: line, Msg: fmt.Sprintf("expected %s, got %s", typeName(m[4]), typeName(m[3]))}
	}
	return Problem{Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

func typeName(t string) string {
	switch t {
	case "int64", "integer", "int":
		return "an integer"
	case "float64", "float":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "[]interface", "[]interface {}":
		return "an array"
	case "map", "struct", "map[string]interface", "map[string]interface {}":
		return "a table"
	case "time.Time", "toml.LocalDate", "toml.LocalDateTime", "toml.LocalTime":
		return "a date/time"
	}
	return t
}

func applyDefaults(m *Manifest) {
	if m.Limits.MemoryMB == 0 {
		m.Limits.MemoryMB = DefaultMemoryMB
	}
	if m.Limits.TimeoutMS == 0 {
		m.Limits.TimeoutMS = DefaultTimeoutMS
	}
	if m.Limits.MaxInstances == 0 {
		m.Limits.MaxInstances = max(DefaultMaxInstances, m.Limits.MinInstances)
	}
}
