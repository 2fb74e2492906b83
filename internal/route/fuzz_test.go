package route

import (
	"strings"
	"testing"
)

var parseSeeds = []string{
	"", "/", "/*", "//*", "/a", "/a/", "/a/*", "/a/b/*", "/a//b", "/a/./b", "/a/%2e%2E/*",
	"/a%zz", "/a%2", "/caf%C3%A9", "/a b", "/a?b", `/a\b`, "/café", "/api*", "/api/*/x",
	"*", "*/x", "*./x", "*.example.com/*", "**.example.com/*", "shop.*.com/*",
	"shop.example.com", "shop.example.com/*", "Shop.Example.COM/Cart", "shop.example.com:8080/*",
	"localhost/*", "LOCALHOST/a", "[::1]/*", "127.0.0.1/x", "api/cart", "https://a.com/*",
	"a..b.com/*", ".a.com/*", "a.com./*", "-a.com/x", "bücher.example/*",
}

// FuzzParse checks that Parse never panics, and that a route it accepts
// is given back by String in a spelling that parses to the same Pattern.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error", s)
			}
			return
		}
		if p.Key() != p.String() {
			t.Fatalf("Key %q != String %q", p.Key(), p.String())
		}
		q, err := Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, but its String %q does not parse: %v", s, p, p.String(), err)
		}
		if q != p {
			t.Fatalf("Parse(%q) = %#v, Parse(%q) = %#v", s, p, p.String(), q)
		}
		if p.Host != strings.ToLower(p.Host) {
			t.Fatalf("host %q is not lowercase", p.Host)
		}
		if p.Path != "" && p.Path[0] != '/' || p.Path == "" && !p.Prefix {
			t.Fatalf("bad path in %#v", p)
		}
		// A parsed route is one CleanPath leaves alone, so requests for it
		// can reach it.
		if p.Path != "" && CleanPath(p.Path) != p.Path {
			t.Fatalf("CleanPath(%q) = %q: a route no request can match", p.Path, CleanPath(p.Path))
		}
	})
}

// matchRoutes is the fixed part of FuzzMatch's table; the fuzzer adds two
// routes of its own.
var matchRoutes = []string{
	"/*", "/", "/api/*", "/api/cart/*", "/api/cart/items", "/exact", "/exact/",
	"shop.example.com/*", "shop.example.com/admin", "shop.example.com/api/*",
	"*.example.com/*", "*.example.com/api/cart/*", "*.eu.example.com/api/*",
	"api.example.org/v1/*",
}

// FuzzMatch checks Match against a brute-force reference that ranks every
// matching route, and that cleaning the path first changes nothing.
func FuzzMatch(f *testing.F) {
	type seed struct{ r1, r2, host, path string }
	for _, s := range []seed{
		{"/x/*", "/x", "a.com", "/x"},
		{"/x/*", "a.com/x", "A.COM:80", "/x/y"},
		{"*.a.com/*", "*.b.a.com/*", "c.b.a.com", "/"},
		{"/api/cart/x/*", "/*", "shop.example.com.", "/api/cart/x/../x/"},
		{"/a/b/*", "/a", "", "/a/b/%2e%2e/%2E"},
		{"/a", "/b", "[::1]:80", "*"},
		{"localhost/*", "/", "localhost:8080", "a/../b"},
		{"/", "/*", "x", "//.."},
	} {
		f.Add(s.r1, s.r2, s.host, s.path)
	}
	f.Fuzz(func(t *testing.T, r1, r2, host, path string) {
		var entries []Entry[string]
		seen := map[string]bool{}
		for _, r := range append(matchRoutes[:len(matchRoutes):len(matchRoutes)], r1, r2) {
			p, err := Parse(r)
			if err != nil || seen[p.Key()] {
				continue
			}
			seen[p.Key()] = true
			entries = append(entries, Entry[string]{Pattern: p, Owner: "svc", Value: p.String()})
		}
		table, err := Build(entries)
		if err != nil {
			t.Fatalf("Build of distinct routes: %v", err)
		}
		if table.Len() != len(entries) {
			t.Fatalf("Len() = %d, want %d", table.Len(), len(entries))
		}

		clean := CleanPath(path)
		if again := CleanPath(clean); again != clean {
			t.Fatalf("CleanPath not idempotent: %q -> %q -> %q", path, clean, again)
		}
		if strings.HasPrefix(path, "/") && !strings.HasPrefix(clean, "/") {
			t.Fatalf("CleanPath(%q) = %q lost its leading slash", path, clean)
		}

		e, ok := table.Match(host, path)
		got := ""
		if ok {
			got = e.Value
		} else if e != nil {
			t.Fatalf("no match but entry %+v", e)
		}
		if want := refMatch(entries, host, path); got != want {
			t.Fatalf("Match(%q, %q) = %q, reference says %q (extra routes %q, %q)", host, path, got, want, r1, r2)
		}
		if path != "" && path[0] != '/' {
			return // not a request path: matches nothing, cleaned or not
		}
		e2, ok2 := table.Match(host, clean)
		if ok2 != ok || ok && e2 != e {
			t.Fatalf("Match(%q, %q) = %v, but Match of the cleaned path %q = %v", host, path, e, clean, e2)
		}
	})
}

// refMatch is Match done the slow way: rank every route that takes the
// request and keep the best. It returns the route, or "" for none.
func refMatch(entries []Entry[string], host, path string) string {
	if path != "" && path[0] != '/' {
		return ""
	}
	path = CleanPath(path)
	host = hostname(host)
	best, bestRank := "", [4]int{}
	for _, e := range entries {
		p := e.Pattern
		var rank [4]int
		switch {
		case p.Host == "":
			rank[0] = 1
		case strings.HasPrefix(p.Host, "*."):
			suffix := p.Host[1:]
			if !strings.HasSuffix(host, suffix) || len(host) <= len(suffix) {
				continue
			}
			rank[0], rank[1] = 2, len(suffix)
		case p.Host == host:
			rank[0] = 3
		default:
			continue
		}
		switch {
		case !p.Prefix && path == p.Path:
			rank[2] = 2
		case p.Prefix && (path == p.Path || strings.HasPrefix(path, p.Path+"/")):
			rank[2], rank[3] = 1, len(p.Path)
		default:
			continue
		}
		if best == "" || less(bestRank, rank) {
			best, bestRank = e.Value, rank
		}
	}
	return best
}

func less(a, b [4]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
