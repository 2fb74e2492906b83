package js

import (
	"testing"
	"time"
)

// A backtracking regular expression (goja runs those on regexp2, in Go
// code an interrupt cannot stop) gives up after regexpTimeout instead of
// holding a core.
func TestCatastrophicRegexpIsBounded(t *testing.T) {
	inst := loadWith(t, `export default { fetch() {
  const re = /^(a+)+\1?$/;
  const t0 = Date.now();
  const matched = re.test('a'.repeat(40) + 'b');
  return Response.json({ matched, ok: /^(a)\1$/.test('aa') });
} }`, limitsConfig{timeoutMS: 20_000}, nil)
	start := time.Now()
	rec, err := do(t, inst, "GET", "http://x/", "", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > regexpTimeout+2*time.Second {
		t.Fatalf("the match ran %v", d)
	}
	if rec.Body.String() != `{"matched":false,"ok":true}` {
		t.Fatalf("body %s", rec.Body.String())
	}
}
