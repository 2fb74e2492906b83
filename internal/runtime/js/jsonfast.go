package js

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// JSON.stringify for the values Response.json() is usually given —
// plain objects and arrays of strings, numbers, booleans and null —
// written in Go. Anything else (a toJSON, a Date, a Map, a proxy, a
// BigInt, a cycle, deep nesting) makes it give up, and JSON.stringify
// runs instead, so the output is the same either way (jsonfast_test.go
// compares them).

const jsonFastMaxDepth = 32

type jsonFast struct {
	in          *instance
	b           strings.Builder
	objectProto *goja.Object
	arrayProto  *goja.Object
}

// fastStringify returns JSON.stringify(v), or false when it cannot.
func (in *instance) fastStringify(v goja.Value) (string, bool) {
	if in.cache.objectProto == nil {
		in.cache.objectProto = in.vm.Get("Object").ToObject(in.vm).Get("prototype").ToObject(in.vm)
		in.cache.arrayProto = in.vm.Get("Array").ToObject(in.vm).Get("prototype").ToObject(in.vm)
	}
	j := jsonFast{in: in, objectProto: in.cache.objectProto, arrayProto: in.cache.arrayProto}
	j.b.Grow(128)
	if !j.value(v, 0) {
		return "", false
	}
	return j.b.String(), true
}

// value writes v; false means "cannot, use JSON.stringify". A value
// JSON.stringify would skip (undefined, a function, a symbol) is also
// reported as false at the top level.
func (j *jsonFast) value(v goja.Value, depth int) bool {
	switch {
	case v == nil || goja.IsUndefined(v):
		return false
	case goja.IsNull(v):
		j.b.WriteString("null")
		return true
	}
	if o, ok := v.(*goja.Object); ok {
		return j.object0(o, depth)
	}
	// Dispatch on the exported type rather than Export(), which boxes the
	// value in an interface (an allocation per string or number).
	switch v.ExportType() {
	case typeString:
		x := v.String()
		if strings.ContainsRune(x, utf8.RuneError) {
			return false // maybe a lone surrogate, which only JSON.stringify sees
		}
		j.str(x)
		return true
	case typeBool:
		if v.ToBoolean() {
			j.b.WriteString("true")
		} else {
			j.b.WriteString("false")
		}
		return true
	case typeInt64:
		var buf [24]byte
		j.b.Write(strconv.AppendInt(buf[:0], v.ToInteger(), 10))
		return true
	case typeFloat64:
		if x := v.ToFloat(); math.IsNaN(x) || math.IsInf(x, 0) {
			j.b.WriteString("null")
		} else {
			j.b.WriteString(v.String())
		}
		return true
	}
	return false
}

var (
	typeString  = reflect.TypeFor[string]()
	typeBool    = reflect.TypeFor[bool]()
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
)

func (j *jsonFast) object0(o *goja.Object, depth int) bool {
	if depth >= jsonFastMaxDepth {
		return false
	}
	switch o.Prototype() {
	case j.objectProto:
		if o.ClassName() != "Object" || o.Get("toJSON") != nil {
			return false
		}
		return j.object(o, depth)
	case j.arrayProto:
		if o.ClassName() != "Array" {
			return false
		}
		return j.array(o, depth)
	}
	return false
}

// skipped reports whether JSON.stringify leaves a property out.
func skipped(v goja.Value) bool {
	if v == nil || goja.IsUndefined(v) {
		return true
	}
	if _, ok := v.(*goja.Symbol); ok {
		return true
	}
	_, isFn := goja.AssertFunction(v)
	return isFn
}

func (j *jsonFast) object(o *goja.Object, depth int) bool {
	j.b.WriteByte('{') // (symbol keys are not serialized: no need to look)
	first := true
	for _, k := range o.Keys() {
		pv := o.Get(k)
		if skipped(pv) {
			continue
		}
		if strings.ContainsRune(k, utf8.RuneError) {
			return false
		}
		if !first {
			j.b.WriteByte(',')
		}
		first = false
		j.str(k)
		j.b.WriteByte(':')
		if !j.value(pv, depth+1) {
			return false
		}
	}
	j.b.WriteByte('}')
	return true
}

func (j *jsonFast) array(o *goja.Object, depth int) bool {
	n := o.Get("length").ToInteger()
	if n > 1<<20 {
		return false
	}
	j.b.WriteByte('[')
	for i := int64(0); i < n; i++ {
		if i > 0 {
			j.b.WriteByte(',')
		}
		ev := o.Get(strconv.FormatInt(i, 10))
		if skipped(ev) {
			j.b.WriteString("null")
			continue
		}
		if !j.value(ev, depth+1) {
			return false
		}
	}
	j.b.WriteByte(']')
	return true
}

// str writes s as JSON's QuoteJSONString does (strings that may hold a
// lone surrogate never get here: goja shows them as U+FFFD, and value
// gives up on those).
func (j *jsonFast) str(s string) {
	const hex = "0123456789abcdef"
	j.b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			continue
		}
		j.b.WriteString(s[start:i])
		switch c {
		case '"':
			j.b.WriteString(`\"`)
		case '\\':
			j.b.WriteString(`\\`)
		case '\b':
			j.b.WriteString(`\b`)
		case '\f':
			j.b.WriteString(`\f`)
		case '\n':
			j.b.WriteString(`\n`)
		case '\r':
			j.b.WriteString(`\r`)
		case '\t':
			j.b.WriteString(`\t`)
		default:
			j.b.WriteString(`\u00`)
			j.b.WriteByte(hex[c>>4])
			j.b.WriteByte(hex[c&15])
		}
		i++
		start = i
	}
	j.b.WriteString(s[start:])
	j.b.WriteByte('"')
}
