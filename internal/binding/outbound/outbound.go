// Package outbound owns a service's outbound HTTP: fetch() to the hosts
// its manifest's [outbound] allowed_hosts lists, and nowhere else.
//
// The policy has two layers. The allowlist is checked on every request
// and on every redirect before it is followed. The address check is made
// when connecting, on the address actually dialled after DNS resolution,
// so a listed name that resolves (or is rebound) to a loopback,
// link-local, private or metadata address is refused too; the operator
// may allow such ranges for a node (Config.AllowNets), which tests and
// private deployments need. Every request and every redirect followed is
// a subrequest drawn from the invocation's budget, and every phase has a
// timeout.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/wisp-run/wisp/internal/binding"
)

// Config is the node's outbound policy.
type Config struct {
	// AllowNets are address ranges normally refused that services on this
	// node may reach anyway (for example 127.0.0.0/8 in tests, or a
	// private network the operator trusts). They do not bypass any
	// service's allowed_hosts.
	AllowNets []netip.Prefix
	// LookupHost resolves a name; default the system resolver. Tests use
	// it to make a name resolve to a refused address.
	LookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeouts; zero means the default.
	DialTimeout           time.Duration // 10s
	TLSHandshakeTimeout   time.Duration // 10s
	ResponseHeaderTimeout time.Duration // 60s
	MaxRedirects          int           // 20, as fetch
}

// Client holds the node's connections for outbound requests (shared by
// every service: connections go only to addresses the policy allows).
type Client struct {
	cfg       Config
	transport *http.Transport
}

// NewClient makes the node's outbound client.
func NewClient(cfg Config) *Client {
	if cfg.LookupHost == nil {
		cfg.LookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.TLSHandshakeTimeout == 0 {
		cfg.TLSHandshakeTimeout = 10 * time.Second
	}
	if cfg.ResponseHeaderTimeout == 0 {
		cfg.ResponseHeaderTimeout = 60 * time.Second
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = 20
	}
	c := &Client{cfg: cfg}
	c.transport = &http.Transport{
		Proxy:                 nil, // never an environment proxy: the policy is about where bytes go
		DialContext:           c.dial,
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return c
}

// Close drops idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Error is a refused outbound request.
type Error struct {
	URL    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("fetch to %s refused: %s", e.URL, e.Reason) }

// allowed says whether the node lets services reach a.
func (c *Client) allowed(a netip.Addr) string {
	why := Refused(a)
	if why == "" {
		return ""
	}
	for _, p := range c.cfg.AllowNets {
		if p.Contains(a.Unmap()) {
			return ""
		}
	}
	return why
}

// dial resolves the host itself and connects only to permitted addresses,
// so the check applies to the address dialled, not to a name.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = c.cfg.LookupHost(ctx, host); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var reasons []string
	d := &net.Dialer{Timeout: c.cfg.DialTimeout}
	var lastErr error
	for _, a := range addrs {
		if why := c.allowed(a); why != "" {
			reasons = append(reasons, fmt.Sprintf("%s is %s", a, why))
			continue
		}
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if len(reasons) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	return nil, &Error{URL: host, Reason: fmt.Sprintf("%s resolves only to addresses services may not reach (%s)", host, strings.Join(reasons, "; "))}
}

// Fetcher is one service's outbound policy.
type Fetcher struct {
	c     *Client
	allow []Pattern
}

var _ binding.Fetcher = (*Fetcher)(nil)

// Fetcher returns the policy for a service with these allowed_hosts
// entries (validated by the manifest; an invalid one is an error here).
func (c *Client) Fetcher(allowedHosts []string) (*Fetcher, error) {
	f := &Fetcher{c: c}
	for i, h := range allowedHosts {
		p, err := ParsePattern(h)
		if err != nil {
			return nil, fmt.Errorf("outbound.allowed_hosts[%d]: %w", i, err)
		}
		f.allow = append(f.allow, p)
	}
	return f, nil
}

func (f *Fetcher) check(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Error{URL: u.Redacted(), Reason: fmt.Sprintf("only http and https URLs can be fetched, not %s:", u.Scheme)}
	}
	for _, p := range f.allow {
		if p.Match(u) {
			return nil
		}
	}
	if len(f.allow) == 0 {
		return &Error{URL: u.Redacted(), Reason: "this service may not make outbound requests: its manifest has no [outbound] allowed_hosts"}
	}
	var list []string
	for _, p := range f.allow {
		list = append(list, p.String())
	}
	return &Error{URL: u.Redacted(), Reason: fmt.Sprintf("%s is not in the service's [outbound] allowed_hosts (%s)", u.Scheme+"://"+u.Host, strings.Join(list, ", "))}
}

// Do makes req under the policy; see binding.Fetcher.
func (f *Fetcher) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if err := f.check(req.URL); err != nil {
		return nil, err
	}
	if err := binding.Subrequest(ctx); err != nil {
		return nil, err
	}
	follow := binding.FollowsRedirects(ctx)
	client := &http.Client{
		Transport: f.c.transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if !follow {
				return http.ErrUseLastResponse
			}
			if len(via) > f.c.cfg.MaxRedirects {
				return fmt.Errorf("more than %d redirects", f.c.cfg.MaxRedirects)
			}
			if err := f.check(next.URL); err != nil {
				return fmt.Errorf("redirected from %s: %w", via[len(via)-1].URL.Redacted(), err)
			}
			return binding.Subrequest(ctx)
		},
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in our own errors already
		}
		return nil, fmt.Errorf("fetch %s: %w", req.URL.Redacted(), err)
	}
	return resp, nil
}
