package outbound_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/binding/outbound"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in, want, expectedErr string
	}{
		{in: "api.example.com", want: "https://api.example.com"},
		{in: "https://API.Example.com.", want: "https://api.example.com"},
		{in: "http://api.example.com:8080", want: "http://api.example.com:8080"},
		{in: "*://*.example.com:*", want: "*://*.example.com:*"},
		{in: "*", want: "https://*"},
		{in: "http://10.0.0.5:9000", want: "http://10.0.0.5:9000"},
		{in: "https://[2001:db8::1]:443", want: "https://[2001:db8::1]:443"},
		{in: "", expectedErr: "empty"},
		{in: " api.example.com", expectedErr: "spaces"},
		{in: "ftp://example.com", expectedErr: `scheme "ftp"`},
		{in: "https://example.com/path", expectedErr: "no path"},
		{in: "https://user@example.com", expectedErr: "no path, query or user"},
		{in: "example.com:0", expectedErr: "port"},
		{in: "example.com:http", expectedErr: "port"},
		{in: "example.com:", expectedErr: "empty port"},
		{in: "ex*mple.com", expectedErr: "'*' may only be"},
		{in: "*..", expectedErr: "is not a host name"},
		{in: "bad_-.com", expectedErr: "is not a host name"},
		{in: "[::1", expectedErr: "unclosed"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := outbound.ParsePattern(tc.in)
			if tc.expectedErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.expectedErr) {
					t.Fatalf("err = %v, want %q", err, tc.expectedErr)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Fatalf("%q → %v %v, want %s", tc.in, p, err, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		url     string
		want    bool
	}{
		{"api.example.com", "https://api.example.com/x", true},
		{"api.example.com", "https://API.example.com:443/", true},
		{"api.example.com", "http://api.example.com/", false},
		{"api.example.com", "https://api.example.com:8443/", false},
		{"api.example.com", "https://evil.com/?api.example.com", false},
		{"api.example.com", "https://api.example.com.evil.com/", false},
		{"*.example.com", "https://a.b.example.com/", true},
		{"*.example.com", "https://example.com/", false},
		{"*.example.com", "https://badexample.com/", false},
		{"*://example.com", "http://example.com/", true},
		{"*://example.com", "https://example.com/", true},
		{"*://example.com", "http://example.com:443/", false},
		{"http://example.com:*", "http://example.com:1234/", true},
		{"*", "https://anything.test/", true},
		{"*", "http://anything.test/", false},
		{"https://[2001:db8::1]", "https://[2001:db8:0::1]/", true},
		{"*", "file:///etc/passwd", false},
	}
	for _, tc := range tests {
		p, err := outbound.ParsePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(tc.url)
		if got := p.Match(u); got != tc.want {
			t.Errorf("%s matches %s = %v, want %v", tc.pattern, tc.url, got, tc.want)
		}
	}
}

func TestRefusedAddresses(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":             "loopback",
		"::1":                   "loopback",
		"::ffff:127.0.0.1":      "loopback",
		"169.254.169.254":       "cloud metadata",
		"169.254.1.1":           "link-local",
		"fe80::1":               "link-local",
		"10.1.2.3":              "private",
		"172.16.0.1":            "private",
		"192.168.1.1":           "private",
		"fd00:ec2::254":         "private",
		"100.100.100.200":       "carrier-grade NAT",
		"0.1.2.3":               "this network",
		"0.0.0.0":               "unspecified",
		"::":                    "unspecified",
		"239.1.1.1":             "multicast",
		"255.255.255.255":       "broadcast",
		"64:ff9b::a9fe:a9fe":    "cloud metadata",
		"2002:7f00:1::1":        "loopback",
		"93.184.215.14":         "",
		"2606:2800:21f:cb07::1": "",
		"8.8.8.8":               "",
	} {
		got := outbound.Refused(netip.MustParseAddr(addr))
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

// server counts the requests it gets.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func invocation() context.Context {
	return binding.StartInvocation(context.Background(), binding.DefaultMaxSubrequests)
}

func fetch(ctx context.Context, f *outbound.Fetcher, u string) (string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	resp, err := f.Do(ctx, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b), nil
}

func mustFetcher(t *testing.T, c *outbound.Client, hosts ...string) *outbound.Fetcher {
	t.Helper()
	f, err := c.Fetcher(hosts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func TestPolicy(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	u, _ := url.Parse(srv.URL)
	port := u.Port()
	strict := outbound.NewClient(outbound.Config{
		LookupHost: func(ctx context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "metadata.test":
				return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
			case "local.test":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, errors.New("no such host")
		},
	})
	open := outbound.NewClient(outbound.Config{AllowNets: loopback})
	tests := []struct {
		name        string
		c           *outbound.Client
		allow       []string
		url         string
		want        string
		expectedErr string
	}{
		{"nothing allowed by default", open, nil, srv.URL, "", "has no [outbound] allowed_hosts"},
		{"not listed", open, []string{"https://api.example.com"}, srv.URL, "", "is not in the service's [outbound] allowed_hosts (https://api.example.com)"},
		{"listed loopback refused", strict, []string{"http://127.0.0.1:" + port}, srv.URL, "", "127.0.0.1 is a loopback address"},
		{"name resolving to loopback refused", strict, []string{"http://local.test:" + port}, "http://local.test:" + port + "/", "", "local.test resolves only to addresses services may not reach (127.0.0.1 is a loopback address)"},
		{"name resolving to metadata refused", strict, []string{"http://metadata.test"}, "http://metadata.test/latest/meta-data/", "", "169.254.169.254 is the cloud metadata address"},
		{"wildcard does not bypass the address check", strict, []string{"*://*:*"}, srv.URL, "", "loopback"},
		{"operator override", open, []string{"http://127.0.0.1:" + port}, srv.URL, "200 OK hi", ""},
		{"override does not bypass the allowlist", open, []string{"http://127.0.0.1:1"}, srv.URL, "", "not in the service's"},
		{"scheme", open, []string{"*"}, "ftp://127.0.0.1/", "", "only http and https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.hits.Load()
			got, err := fetch(invocation(), mustFetcher(t, tc.c, tc.allow...), tc.url)
			if tc.expectedErr != "" {
				var oe *outbound.Error
				if err == nil || !strings.Contains(err.Error(), tc.expectedErr) || !errors.As(err, &oe) {
					t.Fatalf("err = %v, want %q", err, tc.expectedErr)
				}
				if srv.hits.Load() != before {
					t.Fatal("a refused request reached the server")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestRedirectsAreChecked(t *testing.T) {
	target := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "target") })
	var redirectTo atomic.Value
	origin := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirectTo.Load().(string), http.StatusFound)
	})
	c := outbound.NewClient(outbound.Config{AllowNets: loopback})
	onlyOrigin := mustFetcher(t, c, "http://"+origin.Listener.Addr().String())
	both := mustFetcher(t, c, "http://"+origin.Listener.Addr().String(), "http://"+target.Listener.Addr().String())

	redirectTo.Store(target.URL + "/x")
	if _, err := fetch(invocation(), onlyOrigin, origin.URL); err == nil || !strings.Contains(err.Error(), "redirected from") || !strings.Contains(err.Error(), "not in the service's") {
		t.Fatalf("redirect to an unlisted host: %v", err)
	}
	if target.hits.Load() != 0 {
		t.Fatal("the unlisted redirect target was reached")
	}
	if got, err := fetch(invocation(), both, origin.URL); err != nil || got != "200 OK target" {
		t.Fatalf("listed redirect: %q %v", got, err)
	}
	// A redirect followed is a subrequest: a budget of one stops it.
	if _, err := fetch(binding.StartInvocation(context.Background(), 1), both, origin.URL); err == nil || !strings.Contains(err.Error(), "Too many subrequests") {
		t.Fatalf("redirect past the budget: %v", err)
	}
	// redirect: "manual" gets the 302 itself.
	if got, err := fetch(binding.ManualRedirects(invocation()), onlyOrigin, origin.URL); err != nil || !strings.HasPrefix(got, "302 Found") {
		t.Fatalf("manual redirect: %q %v", got, err)
	}
	// A redirect to a loopback address under a listed wildcard is still refused.
	strict := mustFetcher(t, outbound.NewClient(outbound.Config{}), "http://*:*", "*")
	if _, err := fetch(invocation(), strict, origin.URL); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("loopback origin: %v", err)
	}
}

func TestSubrequestBudgetAndTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	})
	defer close(release)
	c := outbound.NewClient(outbound.Config{AllowNets: loopback, ResponseHeaderTimeout: 200 * time.Millisecond})
	f := mustFetcher(t, c, "http://"+srv.Listener.Addr().String())
	ctx := binding.StartInvocation(context.Background(), 3)
	for i := range 3 {
		if _, err := fetch(ctx, f, srv.URL); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	var le *binding.SubrequestLimitError
	if _, err := fetch(ctx, f, srv.URL); !errors.As(err, &le) || le.Max != 3 {
		t.Fatalf("fourth request: %v", err)
	}
	if _, err := fetch(context.Background(), f, srv.URL); !errors.Is(err, binding.ErrNoInvocation) {
		t.Fatalf("outside an invocation: %v", err)
	}
	start := time.Now()
	if _, err := fetch(invocation(), f, srv.URL+"/slow"); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("slow server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the response header timeout took %v", d)
	}
	// The invocation's deadline bounds a request too.
	dctx, cancel := context.WithTimeout(invocation(), 100*time.Millisecond)
	defer cancel()
	if _, err := fetch(dctx, f, srv.URL+"/slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}
