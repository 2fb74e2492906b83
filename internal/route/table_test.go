package route

import (
	"errors"
	"strings"
	"testing"
)

// build makes a table whose values are the routes' own spelling, owned by
// the service named after "@" ("/a/*@cart"), or by "svc".
func build(t testing.TB, routes ...string) *Table[string] {
	t.Helper()
	var entries []Entry[string]
	for _, r := range routes {
		r, owner, ok := cut(r, '@')
		if !ok {
			owner = "svc"
		}
		p, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry[string]{Pattern: p, Owner: owner, Value: r})
	}
	table, err := Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestTable_Match(t *testing.T) {
	table := build(t,
		"/*",
		"/api/*",
		"/api/cart/*",
		"/api/cart/items",
		"/api/cart/items/*",
		"/exact",
		"/exact/",
		"/",
		"shop.example.com/*",
		"shop.example.com/admin",
		"shop.example.com/api/*",
		"*.example.com/*",
		"*.example.com/api/cart/*",
		"*.eu.example.com/api/*",
		"api.example.org/v1/*",
		"localhost/local/*",
	)
	tests := []struct {
		name     string
		host     string
		path     string
		expected string // the matching route, or "" for no match
	}{
		// Path precedence on any host.
		{name: "root prefix takes what nothing else does", host: "other.net", path: "/nothing/here", expected: "/*"},
		{name: "exact root", host: "other.net", path: "/", expected: "/"},
		{name: "empty path is the root", host: "other.net", path: "", expected: "/"},
		{name: "prefix matches its own path", host: "other.net", path: "/api/cart", expected: "/api/cart/*"},
		{name: "prefix matches its path with a slash", host: "other.net", path: "/api/cart/", expected: "/api/cart/*"},
		{name: "prefix matches below", host: "other.net", path: "/api/cart/x/y", expected: "/api/cart/*"},
		{name: "prefix matches whole segments only", host: "other.net", path: "/api/cartx", expected: "/api/*"},
		{name: "longer prefix beats shorter", host: "other.net", path: "/api/cart/items/1", expected: "/api/cart/items/*"},
		{name: "exact beats prefix of the same path", host: "other.net", path: "/api/cart/items", expected: "/api/cart/items"},
		{name: "prefix of the exact path takes the slash", host: "other.net", path: "/api/cart/items/", expected: "/api/cart/items/*"},
		{name: "exact is exact", host: "other.net", path: "/exact", expected: "/exact"},
		{name: "exact with a slash is another route", host: "other.net", path: "/exact/", expected: "/exact/"},
		{name: "exact does not take below", host: "other.net", path: "/exact/x", expected: "/*"},
		{name: "path is case-sensitive", host: "other.net", path: "/API/cart", expected: "/*"},
		{name: "trailing slashes are trimmed for prefixes", host: "other.net", path: "/api/cart//", expected: "/api/cart/*"},
		{name: "empty segment inside", host: "other.net", path: "/api//cart", expected: "/api/*"},

		// Host precedence.
		{name: "exact host takes every path", host: "shop.example.com", path: "/api/cart/items", expected: "shop.example.com/api/*"},
		{name: "exact host catch-all", host: "shop.example.com", path: "/anything", expected: "shop.example.com/*"},
		{name: "exact host exact path", host: "shop.example.com", path: "/admin", expected: "shop.example.com/admin"},
		{name: "exact host beats wildcard host", host: "shop.example.com", path: "/api/cart", expected: "shop.example.com/api/*"},
		{name: "wildcard host beats any host", host: "www.example.com", path: "/api/cart/1", expected: "*.example.com/api/cart/*"},
		{name: "wildcard host catch-all", host: "www.example.com", path: "/api/other", expected: "*.example.com/*"},
		{name: "longer wildcard beats shorter", host: "a.eu.example.com", path: "/api/cart", expected: "*.eu.example.com/api/*"},
		{name: "shorter wildcard when the longer misses", host: "a.eu.example.com", path: "/other", expected: "*.example.com/*"},
		{name: "wildcard takes deep subdomains", host: "a.b.c.example.com", path: "/x", expected: "*.example.com/*"},
		{name: "wildcard does not take the bare domain", host: "example.com", path: "/x", expected: "/*"},
		{name: "wildcard needs a dot boundary", host: "notexample.com", path: "/api/cart", expected: "/api/cart/*"},
		{name: "host miss falls through to any host", host: "api.example.org", path: "/v2/x", expected: "/*"},
		{name: "host hit", host: "api.example.org", path: "/v1", expected: "api.example.org/v1/*"},

		// Host normalisation.
		{name: "port is ignored", host: "shop.example.com:8443", path: "/admin", expected: "shop.example.com/admin"},
		{name: "host is case-insensitive", host: "SHOP.Example.Com", path: "/admin", expected: "shop.example.com/admin"},
		{name: "case-insensitive with port", host: "Shop.Example.Com:80", path: "/admin", expected: "shop.example.com/admin"},
		{name: "trailing dot", host: "shop.example.com.", path: "/admin", expected: "shop.example.com/admin"},
		{name: "trailing dot and port", host: "shop.example.com.:8080", path: "/admin", expected: "shop.example.com/admin"},
		{name: "wildcard, case and port", host: "WWW.Example.com:8080", path: "/", expected: "*.example.com/*"},
		{name: "localhost with port", host: "localhost:8080", path: "/local/x", expected: "localhost/local/*"},
		{name: "ipv6 host", host: "[::1]:8080", path: "/api/cart", expected: "/api/cart/*"},
		{name: "empty host", host: "", path: "/api/cart", expected: "/api/cart/*"},

		// Dot segments are removed before matching.
		{name: "dot-dot climbs out of a prefix", host: "other.net", path: "/api/cart/../../exact", expected: "/exact"},
		{name: "dot-dot into a prefix", host: "other.net", path: "/x/../api/cart", expected: "/api/cart/*"},
		{name: "dot segment", host: "other.net", path: "/api/./cart/./items", expected: "/api/cart/items"},
		{name: "encoded dot-dot", host: "other.net", path: "/api/cart/%2e%2E/%2E./exact", expected: "/exact"},
		{name: "dot-dot above the root", host: "other.net", path: "/../../exact", expected: "/exact"},
		{name: "host route and dot-dot", host: "shop.example.com", path: "/api/../admin", expected: "shop.example.com/admin"},
		{name: "final dot-dot leaves a slash", host: "other.net", path: "/exact/x/..", expected: "/exact/"},
		{name: "dots inside segments are kept", host: "other.net", path: "/api/cart/..x", expected: "/api/cart/*"},

		// No match.
		{name: "asterisk-form request", host: "other.net", path: "*", expected: ""},
		{name: "relative path", host: "other.net", path: "api/cart", expected: ""},
		{name: "relative path with dots", host: "other.net", path: "x/../api/cart", expected: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := table.Match(tc.host, tc.path)
			got := ""
			if ok {
				got = e.Value
				if e.Pattern.String() != e.Value {
					t.Errorf("entry %q has pattern %q", e.Value, e.Pattern)
				}
			} else if e != nil {
				t.Errorf("no match, but entry %+v", e)
			}
			if got != tc.expected {
				t.Errorf("Match(%q, %q) = %q, want %q", tc.host, tc.path, got, tc.expected)
			}
		})
	}
}

func TestTable_NoMatch(t *testing.T) {
	tests := []struct {
		name   string
		table  *Table[string]
		host   string
		path   string
		length int
	}{
		{name: "nil table", table: nil, host: "a.com", path: "/"},
		{name: "empty table", table: build(t), host: "a.com", path: "/"},
		{name: "only another host", table: build(t, "shop.example.com/*"), host: "www.example.com", path: "/", length: 1},
		{name: "only a wildcard host", table: build(t, "*.example.com/*"), host: "example.com", path: "/", length: 1},
		{name: "only an exact path", table: build(t, "/a", "/b/*"), host: "a.com", path: "/a/", length: 2},
		{name: "prefix, sibling path", table: build(t, "/api/cart/*"), host: "a.com", path: "/api/cartx", length: 1},
		{name: "prefix, parent path", table: build(t, "/api/cart/*"), host: "a.com", path: "/api", length: 1},
		{name: "root path, no root route", table: build(t, "/api/*"), host: "a.com", path: "/", length: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e, ok := tc.table.Match(tc.host, tc.path); ok || e != nil {
				t.Errorf("Match(%q, %q) = %+v, %v; want no match", tc.host, tc.path, e, ok)
			}
			if tc.table != nil {
				if n := tc.table.Len(); n != tc.length {
					t.Errorf("Len() = %d, want %d", n, tc.length)
				}
			}
		})
	}
}

func TestBuild_Collisions(t *testing.T) {
	tests := []struct {
		name        string
		routes      []string // "route@owner"
		expectedErr string
	}{
		{
			name:        "two services, same route",
			routes:      []string{"/api/*@cart", "/x@shop", "/api/*@orders"},
			expectedErr: `route "/api/*" of service "orders" collides with the same route of service "cart"`,
		},
		{
			name:        "one service twice",
			routes:      []string{"/api@cart", "/api@cart"},
			expectedErr: `route "/api" is declared twice by service "cart"`,
		},
		{
			name:        "host spelt differently",
			routes:      []string{"Shop.Example.com/*@cart", "shop.example.com/*@shop"},
			expectedErr: `route "shop.example.com/*" of service "shop" collides with the same route of service "cart"`,
		},
		{
			name:        "same wildcard host",
			routes:      []string{"*.example.com/a@cart", "*.EXAMPLE.com/a@shop"},
			expectedErr: `route "*.example.com/a" of service "shop" collides with the same route of service "cart"`,
		},
		{
			name:        "root prefix",
			routes:      []string{"/*@cart", "/*@shop"},
			expectedErr: `route "/*" of service "shop" collides with the same route of service "cart"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var entries []Entry[int]
			for i, r := range tc.routes {
				s, owner, _ := cut(r, '@')
				p, err := Parse(s)
				if err != nil {
					t.Fatal(err)
				}
				entries = append(entries, Entry[int]{Pattern: p, Owner: owner, Value: i})
			}
			table, err := Build(entries)
			if err == nil {
				t.Fatalf("Build = table of %d, want an error", table.Len())
			}
			var ce *CollisionError
			if !errors.As(err, &ce) {
				t.Fatalf("Build error is %T, want *CollisionError: %v", err, err)
			}
			if err.Error() != tc.expectedErr {
				t.Errorf("error mismatch\n got: %s\nwant: %s", err, tc.expectedErr)
			}
		})
	}
}

func TestBuild_NoCollision(t *testing.T) {
	// Each pair takes different requests, so none collides.
	table := build(t,
		"/api@a", "/api/*@b", "/api/@c",
		"shop.example.com/api@d", "*.example.com/api@e", "*.shop.example.com/api@f",
		"/*@g", "/@h",
	)
	if table.Len() != 8 {
		t.Errorf("Len() = %d, want 8", table.Len())
	}
}

func TestBuild_CopiesEntries(t *testing.T) {
	entries := []Entry[string]{{Pattern: Pattern{Path: "/a"}, Owner: "a", Value: "a"}}
	table, err := Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	entries[0].Value = "changed"
	entries[0].Pattern.Path = "/b"
	if e, ok := table.Match("x.com", "/a"); !ok || e.Value != "a" {
		t.Errorf("Match after the caller changed its slice = %+v, %v; want the original entry", e, ok)
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		input, expected string
	}{
		{"", "/"},
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/b/", "/a/b/"},
		{"/a//b", "/a//b"},
		{"/a/./b", "/a/b"},
		{"/a/../b", "/b"},
		{"/a/b/..", "/a/"},
		{"/a/b/.", "/a/b/"},
		{"/..", "/"},
		{"/../..", "/"},
		{"/../a", "/a"},
		{"/.", "/"},
		{"/a/%2e/b", "/a/b"},
		{"/a/%2E%2e/b", "/b"},
		{"/a/.%2e/b", "/b"},
		{"/a/%2e./b", "/b"},
		{"/a//../b", "/a/b"},
		{"/a/.../b", "/a/.../b"},
		{"/a/.b/c.", "/a/.b/c."},
		{"/a/%2f../b", "/a/%2f../b"},
		{"/a/%2e%2f/b", "/a/%2e%2f/b"},
		{"/v1.2/x", "/v1.2/x"},
		{"a/../b", "/b"},
		{"*", "*"},
	}
	for _, tc := range tests {
		if got := CleanPath(tc.input); got != tc.expected {
			t.Errorf("CleanPath(%q) = %q, want %q", tc.input, got, tc.expected)
		}
		if got := CleanPath(CleanPath(tc.input)); got != tc.expected {
			t.Errorf("CleanPath is not idempotent on %q: %q", tc.input, got)
		}
	}
}

func TestCleanPath_NoAllocation(t *testing.T) {
	for _, p := range []string{"/api/cart/items", "/v1.2/a.b/c", "/a/%2F/b"} {
		if n := testing.AllocsPerRun(100, func() { _ = CleanPath(p) }); n != 0 {
			t.Errorf("CleanPath(%q) allocates %v times", p, n)
		}
	}
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// TestTable_Match_DocExample is the example table of docs/manifest.md.
func TestTable_Match_DocExample(t *testing.T) {
	table := build(t, "/*", "/api/*", "/api/cart/*", "/api/cart/items", "shop.example.com/*", "*.example.com/api/*")
	tests := []struct{ request, expected string }{
		{"other.net/api/cart/items", "/api/cart/items"},
		{"other.net/api/cart/items/7", "/api/cart/*"},
		{"other.net/api/cartx", "/api/*"},
		{"other.net/about", "/*"},
		{"SHOP.example.com:8443/api/cart", "shop.example.com/*"},
		{"www.example.com/api/cart", "*.example.com/api/*"},
		{"www.example.com/about", "/*"},
		{"example.com/api/cart", "/api/cart/*"},
		{"other.net/api/cart/../../about", "/*"},
	}
	for _, tc := range tests {
		host, path, _ := strings.Cut(tc.request, "/")
		e, ok := table.Match(host, "/"+path)
		if !ok || e.Value != tc.expected {
			t.Errorf("%s: got %+v, %v; want %s", tc.request, e, ok, tc.expected)
		}
	}
}
