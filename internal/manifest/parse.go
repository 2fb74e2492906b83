package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
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

// Error gives one line per problem: "file:line: key: problem", leaving out
// the line when it is not known and the key when the problem is the file's.
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
	probs := unknownKeys(md.Undecoded())
	if md.IsDefined("vars") && m.Vars == nil {
		// The decoder leaves a map alone, without an error, when the TOML
		// value is not a table.
		probs = append(probs, Problem{Key: "vars", Msg: "expected a table, got " + tomlTypeName(md.Type("vars"))})
	}
	probs = append(probs, validate(&m, md.IsDefined)...)
	if len(probs) > 0 {
		return nil, &Error{File: file, Problems: probs}
	}
	m.Buckets = append(m.Buckets, m.R2Buckets...)
	m.R2Buckets = nil
	applyDefaults(&m)
	return &m, nil
}

// unknownKeys reports each key the schema does not know, once: the keys
// inside an unknown table are not reported again.
func unknownKeys(keys []toml.Key) []Problem {
	var probs []Problem
	var reported []toml.Key
next:
	for _, k := range keys {
		if len(k) > 1 && k[0] == "vars" {
			continue // [vars] takes any table; the decoder still reports nested keys
		}
		for _, r := range reported {
			if len(k) > len(r) && slices.Equal(k[:len(r)], r) {
				continue next
			}
		}
		reported = append(reported, k)
		probs = append(probs, Problem{Key: k.String(), Msg: "unknown key"})
	}
	return probs
}

var (
	// The decoder's type errors are plain strings:
	//   toml: line 3 (last key "limits.memory_mb"): incompatible types: ...
	// with "line N " left out when it does not know the line.
	decodeErrRe    = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)
	typeErrRe      = regexp.MustCompile(`^incompatible types: TOML value has type (\S+); destination has type (.+)$`)
	tableErrRe     = regexp.MustCompile(`^type mismatch for \S+: expected table but found (\S+)$`)
	duplicateKeyRe = regexp.MustCompile(`^Key '(.*)' has already been defined\.$`)
)

// decodeProblem turns the TOML decoder's error into a Problem with a line,
// a key and a sentence a user can act on.
func decodeProblem(err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		if m := duplicateKeyRe.FindStringSubmatch(pe.Message); m != nil {
			return Problem{Key: m[1], Line: pe.Position.Line, Msg: "is defined more than once"}
		}
		return Problem{Key: pe.LastKey, Line: pe.Position.Line, Msg: "invalid TOML: " + pe.Message}
	}
	m := decodeErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return Problem{Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	p := Problem{Msg: m[3]}
	p.Line, _ = strconv.Atoi(m[1])
	if key, uerr := strconv.Unquote(m[2]); uerr == nil {
		p.Key = key
	}
	if t := typeErrRe.FindStringSubmatch(m[3]); t != nil {
		p.Msg = fmt.Sprintf("expected %s, got %s", typeName(t[2]), typeName(t[1]))
	} else if t := tableErrRe.FindStringSubmatch(m[3]); t != nil {
		p.Msg = fmt.Sprintf("expected a table, got %s", typeName(t[1]))
	}
	return p
}

// typeName names a Go type from a decoder error (the TOML value's type, or
// the destination's kind) the way the manifest reference does.
func typeName(t string) string {
	switch t {
	case "int64", "integer":
		return "an integer"
	case "float64", "float":
		return "a float"
	case "string":
		return "a string"
	case "bool", "boolean":
		return "a boolean"
	case "slice", "[]any":
		return "an array"
	case "[]map[string]any":
		return "an array of tables"
	case "map", "map[string]any":
		return "a table"
	case "time.Time":
		return "a date/time"
	}
	return t
}

// tomlTypeName names a type from toml.MetaData.Type.
func tomlTypeName(t string) string {
	switch t {
	case "Integer":
		return "an integer"
	case "Float":
		return "a float"
	case "String":
		return "a string"
	case "Bool":
		return "a boolean"
	case "Array":
		return "an array"
	case "ArrayHash":
		return "an array of tables"
	case "Datetime":
		return "a date/time"
	}
	return "a " + strings.ToLower(t)
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
