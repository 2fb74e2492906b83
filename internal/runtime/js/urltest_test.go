package js

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/dop251/goja"
)

// wptCase is one entry of testdata/wpt/urltestdata.json.
type wptCase struct {
	Input    string  `json:"input"`
	Base     *string `json:"base"`
	Href     string  `json:"href"`
	Origin   *string `json:"origin"`
	Protocol string  `json:"protocol"`
	Username string  `json:"username"`
	Password string  `json:"password"`
	Host     string  `json:"host"`
	Hostname string  `json:"hostname"`
	Port     string  `json:"port"`
	Pathname string  `json:"pathname"`
	Search   string  `json:"search"`
	Hash     string  `json:"hash"`
	Failure  bool    `json:"failure"`
}

func wptCases(t testing.TB) []wptCase {
	t.Helper()
	b, err := os.ReadFile("testdata/wpt/urltestdata.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var out []wptCase
	for _, r := range raw {
		if len(r) > 0 && r[0] == '"' {
			continue // a comment
		}
		var c wptCase
		if err := json.Unmarshal(r, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestURLAgainstWebPlatformTests runs the web-platform-tests URL parsing
// data through parseURL: every case must pass.
func TestURLAgainstWebPlatformTests(t *testing.T) {
	cases := wptCases(t)
	failed := 0
	for _, c := range cases {
		base := ""
		if c.Base != nil {
			base = *c.Base
		}
		u, err := parseURL(c.Input, base)
		if c.Failure {
			if err == nil {
				failed++
				t.Errorf("%q (base %q) parsed as %q; want a failure", c.Input, base, u.href())
			}
			continue
		}
		if err != nil {
			failed++
			t.Errorf("%q (base %q): %v", c.Input, base, err)
			continue
		}
		got := []string{u.href(), u.scheme + ":", u.username, u.password, u.hostPort(), u.host, u.port, u.path, u.search(), u.hash()}
		want := []string{c.Href, c.Protocol, c.Username, c.Password, c.Host, c.Hostname, c.Port, c.Pathname, c.Search, c.Hash}
		if c.Origin != nil {
			got, want = append(got, u.origin()), append(want, *c.Origin)
		}
		for i := range got {
			if got[i] != want[i] {
				failed++
				t.Errorf("%q (base %q): got %q, want %q", c.Input, base, got, want)
				break
			}
		}
	}
	t.Logf("%d of %d web-platform-tests URL cases pass", len(cases)-failed, len(cases))
}

// The fast path must agree with the full parser on everything it takes.
func TestURLFastPathAgreesWithParser(t *testing.T) {
	inputs := []string{
		"http://localhost/", "https://example.com", "http://a.b.c:8080/x/y?z=1#f", "https://example.com:443/p",
		"http://example.com:80", "http://x.y/%41%zz?q='a'#h", "http://x.y/a;b,c=d@e", "https://h.example/?",
		"https://h.example/#", "http://h.example:65535/", "http://h.example/..hidden", "http://h.example/a/.b/..c",
		"http://127.0.0.1:8080/json?q=1", "http://10.0.0.255/", "https://255.255.255.255:443/", "http://0.0.0.0/",
		"http://1.2.3/", "http://1.2.3.4.5/", "http://01.2.3.4/", "http://1.2.3.256/", "http://1.2.3.4./", "http://0x7f.0.0.1/",
		"http://a.1/", "http://1.2.3.04/",
	}
	for _, c := range wptCases(t) {
		inputs = append(inputs, c.Input)
	}
	taken := 0
	for _, in := range inputs {
		fast, ok := fastParse(in)
		if !ok {
			continue
		}
		taken++
		wu, err := urlParser.Parse(in)
		if err != nil {
			t.Errorf("%q: fast path accepted what the parser refuses: %v", in, err)
			continue
		}
		slow := fromWhatwg(wu)
		if fast.href() != slow.href() || fast.path != slow.path || fast.search() != slow.search() || fast.hash() != slow.hash() || fast.hostPort() != slow.hostPort() {
			t.Errorf("%q: fast %q, parser %q", in, fast.href(), slow.href())
		}
	}
	if taken < 10 {
		t.Fatalf("the fast path took only %d inputs", taken)
	}
}

func FuzzURLFastPath(f *testing.F) {
	for _, s := range []string{"http://localhost/", "https://a.example:8443/x?y#z", "http://x/%2e/", "http://0x7f/", "https://xn--a.example/", "http://127.0.0.1:8787/x?q=1", "http://1.2.3.4.5/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, ok := fastParse(in)
		if !ok {
			return
		}
		wu, err := urlParser.Parse(in)
		if err != nil {
			t.Fatalf("%q: fast path accepted what the parser refuses: %v", in, err)
		}
		if slow := fromWhatwg(wu); fast.href() != slow.href() {
			t.Fatalf("%q: fast %q, parser %q", in, fast.href(), slow.href())
		}
	})
}

// The JS URL class reports what parseURL parsed.
func TestURLClassUsesTheParser(t *testing.T) {
	inst := load(t, `export default { fetch(r) {
  const out = [];
  for (const [i, b] of JSON.parse(new URL(r.url).searchParams.get('c'))) {
    try { const u = b === null ? new URL(i) : new URL(i, b); out.push(u.href + ' ' + u.origin); } catch (e) { out.push('fail ' + e.name); }
  }
  return Response.json(out);
} }`, nil, nil)
	cases := wptCases(t)[:200]
	var pairs [][2]any
	for _, c := range cases {
		var b any
		if c.Base != nil {
			b = *c.Base
		}
		pairs = append(pairs, [2]any{c.Input, b})
	}
	arg, _ := json.Marshal(pairs)
	vm := goja.New()
	_ = vm
	rec, err := do(t, inst, "GET", "http://x/?c="+urlQueryEscape(string(arg)), "", 5_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
	for i, c := range cases {
		want := "fail TypeError"
		if !c.Failure {
			want = c.Href + " "
			if c.Origin != nil {
				want += *c.Origin
			}
		}
		if c.Origin == nil && !c.Failure {
			if len(got[i]) < len(want) || got[i][:len(want)] != want {
				t.Errorf("%q: got %q, want %q…", c.Input, got[i], want)
			}
			continue
		}
		if got[i] != want {
			t.Errorf("%q: got %q, want %q", c.Input, got[i], want)
		}
	}
}
