package js

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The Go JSON writer must give JSON.stringify's output, byte for byte, or
// give up.
func TestFastStringifyMatchesJSONStringify(t *testing.T) {
	values := []string{
		`1`, `-0`, `1.5`, `1e21`, `1e-7`, `0.1 + 0.2`, `2 ** 53 + 2`, `NaN`, `-Infinity`, `true`, `null`, `'plain'`,
		`'quote " backslash \\ newline \n tab \t ctrl \u0001 \u001f del \u007f'`, `'ünïcödé ✓ 😀'`, `'lone \ud800 surrogate'`,
		`{}`, `[]`, `{ a: 1, b: 'two', c: [1, 2, { d: null }], e: true }`, `{ u: undefined, f() {}, s: Symbol('x'), n: null }`,
		`[undefined, () => 1, Symbol('y'), 3]`, `{ 2: 'b', 1: 'a', x: 'c' }`, `{ 'ü': 1, '😀': [] }`, `new Array(3)`,
		`{ when: new Date(0) }`, `{ m: new Map() }`, `{ toJSON() { return 'custom' } }`, `{ nested: { toJSON: () => 42 } }`,
		`Object.create(null)`, `Object.assign(Object.create({ inherited: 1 }), { own: 2 })`, `[1, [2, [3, [4]]]]`,
		`{ get g() { return 'getter' } }`, `new (class K { constructor() { this.k = 1 } })()`, `Object.defineProperty({ a: 1 }, 'hidden', { value: 2 })`,
		`{ big: 12345678901234567890, neg: -5, int: 7, frac: 3.25 }`, `{ deep: JSON.parse('[' .repeat(40) + ']'.repeat(40)) }`,
		`'\u2028\u2029'`, `{ [Symbol('s')]: 1, a: 2 }`, `new Number(3)`, `[new String('s')]`,
	}
	var exprs []string
	for _, v := range values {
		exprs = append(exprs, "["+strings.ReplaceAll(v, "`", "\\`")+"]")
	}
	src := `export default { fetch() {
  const cases = [` + strings.Join(values, ",\n") + `];
  return Response.json(cases.map((v) => JSON.stringify(v) === undefined ? null : JSON.stringify(v)));
} }`
	inst := load(t, src, nil, nil)
	rec, err := do(t, inst, "GET", "http://x/", "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var want []*string
	if err := json.Unmarshal(rec.Body.Bytes(), &want); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
	in := inst.(*instance)
	in.mu.Lock()
	defer in.mu.Unlock()
	fast := 0
	for i, v := range values {
		val, err := in.vm.RunString("(" + v + ")")
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got, ok := in.fastStringify(val)
		if !ok {
			continue
		}
		fast++
		if want[i] == nil || got != *want[i] {
			t.Errorf("%s: fast %q, JSON.stringify %v", v, got, want[i])
		}
	}
	if fast < 15 {
		t.Fatalf("the fast path took only %d of %d values", fast, len(values))
	}
	_ = exprs
}
