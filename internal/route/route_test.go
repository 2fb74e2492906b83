package route

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		expected Pattern
		str      string // String(), when it differs from input
	}{
		{name: "exact path", input: "/api/cart", expected: Pattern{Path: "/api/cart"}},
		{name: "prefix", input: "/api/cart/*", expected: Pattern{Path: "/api/cart", Prefix: true}},
		{name: "root prefix", input: "/*", expected: Pattern{Path: "", Prefix: true}},
		{name: "root exact", input: "/", expected: Pattern{Path: "/"}},
		{name: "exact path with trailing slash", input: "/api/cart/", expected: Pattern{Path: "/api/cart/"}},
		{name: "host, every path", input: "shop.example.com/*", expected: Pattern{Host: "shop.example.com", Path: "", Prefix: true}},
		{name: "host and path", input: "shop.example.com/cart", expected: Pattern{Host: "shop.example.com", Path: "/cart"}},
		{name: "host is lowercased", input: "Shop.Example.COM/Cart/*", expected: Pattern{Host: "shop.example.com", Path: "/Cart", Prefix: true}, str: "shop.example.com/Cart/*"},
		{name: "wildcard host", input: "*.example.com/api/*", expected: Pattern{Host: "*.example.com", Path: "/api", Prefix: true}},
		{name: "localhost", input: "localhost/*", expected: Pattern{Host: "localhost", Prefix: true}},
		{name: "ip address", input: "127.0.0.1/x", expected: Pattern{Host: "127.0.0.1", Path: "/x"}},
		{name: "percent-encoded path", input: "/caf%C3%A9/*", expected: Pattern{Path: "/caf%C3%A9", Prefix: true}},
		{name: "dots inside a segment", input: "/v1.2/..well-known/a.", expected: Pattern{Path: "/v1.2/..well-known/a."}},
		{name: "sub-delims", input: "/a:b/@c/$d&e=f;g,h+i!j'k(l)m~n", expected: Pattern{Path: "/a:b/@c/$d&e=f;g,h+i!j'k(l)m~n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if p != tc.expected {
				t.Errorf("Parse(%q) = %#v, want %#v", tc.input, p, tc.expected)
			}
			str := tc.str
			if str == "" {
				str = tc.input
			}
			if p.String() != str || p.Key() != str {
				t.Errorf("String() = %q, Key() = %q, want %q", p.String(), p.Key(), str)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		expectedErr string
	}{
		{name: "empty", input: "", expectedErr: `route is empty`},
		{name: "scheme", input: "https://shop.example.com/*", expectedErr: `route "https://shop.example.com/*" must not include a scheme; write "shop.example.com/*"`},
		{name: "no leading slash", input: "api/cart/*", expectedErr: `route "api/cart/*" must start with "/" or with a host name such as "shop.example.com/"`},
		{name: "no slash at all", input: "cart", expectedErr: `route "cart" must start with "/" or with a host name such as "shop.example.com/"`},
		{name: "just a star", input: "*", expectedErr: `route "*": a host cannot be just "*"; write "/*" to take every path on every host`},
		{name: "host without path", input: "shop.example.com", expectedErr: `route "shop.example.com" has no path; write "shop.example.com/*" to take every path on that host`},
		{name: "port", input: "shop.example.com:8080/*", expectedErr: `route "shop.example.com:8080/*": host "shop.example.com:8080" must not include a port (routes match any port)`},
		{name: "port on localhost", input: "localhost:8080/*", expectedErr: `route "localhost:8080/*": host "localhost:8080" must not include a port (routes match any port)`},
		{name: "ipv6 literal", input: "[::1]/*", expectedErr: `route "[::1]/*": host "[::1]": IP address literals in brackets are not supported`},
		{name: "empty label", input: "shop..example.com/*", expectedErr: `route "shop..example.com/*": host "shop..example.com" has an empty label`},
		{name: "wildcard alone", input: "*./x", expectedErr: `route "*./x": host "*." has nothing after the wildcard`},
		{name: "wildcard inside host", input: "shop.*.com/*", expectedErr: `route "shop.*.com/*": host "shop.*.com": a wildcard is only allowed as a leading "*."`},
		{name: "double wildcard host", input: "**.example.com/*", expectedErr: `route "**.example.com/*": host "**.example.com": a wildcard is only allowed as a leading "*."`},
		{name: "bad host character", input: "shop!.example.com/*", expectedErr: `route "shop!.example.com/*": host "shop!.example.com" has invalid character '!'`},
		{name: "unicode host", input: "bücher.example/*", expectedErr: `route "bücher.example/*": host "bücher.example" has invalid character 'ü'`},
		{name: "wildcard in the middle", input: "/api/*/items", expectedErr: `route "/api/*/items": a wildcard is only allowed as the final "/*"`},
		{name: "wildcard glued to a segment", input: "/api*", expectedErr: `route "/api*": a wildcard is only allowed as the final "/*"`},
		{name: "two wildcards", input: "/api/*/*", expectedErr: `route "/api/*/*": a wildcard is only allowed as the final "/*"`},
		{name: "dot segment", input: "/api/./cart", expectedErr: `route "/api/./cart": path must not contain "." segments (requests are matched after they are removed)`},
		{name: "dot-dot segment", input: "/api/../*", expectedErr: `route "/api/../*": path must not contain ".." segments (requests are matched after they are removed)`},
		{name: "encoded dot segment", input: "/api/%2e", expectedErr: `route "/api/%2e": path must not contain "%2e" segments (requests are matched after they are removed)`},
		{name: "half-encoded dot-dot", input: "/.%2E/x", expectedErr: `route "/.%2E/x": path must not contain ".%2E" segments (requests are matched after they are removed)`},
		{name: "empty segment", input: "/api//cart", expectedErr: `route "/api//cart": path has an empty segment ("//")`},
		{name: "slash before star", input: "/api//*", expectedErr: `route "/api//*": path must not end in "/" before "/*"`},
		{name: "root slash before star", input: "//*", expectedErr: `route "//*": path must not end in "/" before "/*"`},
		{name: "space", input: "/a b", expectedErr: `route "/a b": path has invalid character ' ' (percent-encode it)`},
		{name: "query", input: "/a?b", expectedErr: `route "/a?b": path has invalid character '?' (percent-encode it)`},
		{name: "fragment", input: "/a#b", expectedErr: `route "/a#b": path has invalid character '#' (percent-encode it)`},
		{name: "backslash", input: `/a\b`, expectedErr: `route "/a\\b": path has invalid character '\\' (percent-encode it)`},
		{name: "non-ascii path", input: "/café", expectedErr: `route "/café": path has invalid character 'é' (percent-encode it)`},
		{name: "bad percent escape", input: "/a%zz", expectedErr: `route "/a%zz": path has a '%' that is not followed by two hexadecimal digits (write %25 for a literal '%')`},
		{name: "truncated percent escape", input: "/a%2", expectedErr: `route "/a%2": path has a '%' that is not followed by two hexadecimal digits (write %25 for a literal '%')`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.input)
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want an error", tc.input, p)
			}
			if err.Error() != tc.expectedErr {
				t.Errorf("error mismatch\n got: %s\nwant: %s", err, tc.expectedErr)
			}
		})
	}
}
