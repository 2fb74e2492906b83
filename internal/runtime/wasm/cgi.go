package wasm

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/route"
	"github.com/wisp-run/wisp/internal/runtime"
)

// maxCGIOutput bounds what a CGI program may write to stdout.
const maxCGIOutput = 32 << 20

// cgiInstance runs a WASI command once per request, WAGI style: the
// request in environment variables and stdin, the response on stdout.
// The instance itself holds nothing; each Fetch instantiates the module
// afresh, so nothing one request did is seen by the next.
type cgiInstance struct{ mod *module }

var _ runtime.Instance = (*cgiInstance)(nil)

func (c *cgiInstance) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	m := c.mod
	u, err := url.Parse(req.URL)
	if err != nil {
		return runtime.Errorf(runtime.Exception, "request URL %q: %v", req.URL, err)
	}
	stdout := &limitedBuffer{max: maxCGIOutput}
	stderr := newLogWriter(&m.spec, logs.Error)
	stderr.start(ctx, req.ID)
	defer stderr.flush()
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(m.spec.Service).
		WithStdin(bytes.NewReader(req.Body)).
		WithStdout(stdout).
		WithStderr(stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(ctxSleep(ctx)).
		WithRandSource(crand.Reader)
	for _, kv := range m.routes.env(req, u) {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	inst, err := m.instantiate(ctx, cfg)
	if err == nil {
		defer inst.Close(context.Background())
		_, err = m.call(ctx, inst, inst.ExportedFunction(exportStart))
	}
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		return guestError(ctx, &m.spec, err)
	}
	if stdout.over {
		return runtime.Errorf(runtime.BadResponse, "the module wrote more than %d bytes to stdout", maxCGIOutput)
	}
	status, h, body, err := parseCGI(stdout.Bytes())
	if err != nil {
		return &runtime.Error{Kind: runtime.BadResponse, Message: "the module's output is not a CGI response: " + err.Error()}
	}
	dst := w.Header()
	for i := 0; i < len(h); i += 2 {
		dst.Add(h[i], h[i+1])
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

func (c *cgiInstance) Close() {}

// ctxSleep is WASI's sleep ended early by the request's deadline.
func ctxSleep(ctx context.Context) func(int64) {
	return func(ns int64) {
		t := time.NewTimer(time.Duration(ns))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.over = true
		return 0, errors.New("stdout is over its limit")
	}
	return b.Buffer.Write(p)
}

// routeInfo finds which of the service's own routes a request came in
// by, for SCRIPT_NAME and PATH_INFO.
type routeInfo struct {
	table *route.Table[string]
}

func newRouteInfo(routes []string) (*routeInfo, error) {
	var entries []route.Entry[string]
	for _, r := range routes {
		p, err := route.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r, err)
		}
		entries = append(entries, route.Entry[string]{Pattern: p, Value: r})
	}
	t, err := route.Build(entries)
	if err != nil {
		return nil, err
	}
	return &routeInfo{table: t}, nil
}

// env is the CGI/1.1 (RFC 3875) and WAGI environment for a request.
func (ri *routeInfo) env(req *runtime.Request, u *url.URL) [][2]string {
	path := u.Path
	if path == "" {
		path = "/"
	}
	script, info, matched := "", path, ""
	if e, ok := ri.table.Match(u.Host, u.EscapedPath()); ok {
		matched = e.Value
		clean := route.CleanPath(path)
		if e.Pattern.Prefix {
			script = e.Pattern.Path
			info = strings.TrimPrefix(clean, script)
		} else {
			script, info = clean, ""
		}
	}
	rawInfo := info
	if esc := u.EscapedPath(); script == "" {
		rawInfo = esc
	} else if strings.HasPrefix(esc, script) {
		rawInfo = esc[len(script):]
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	env := [][2]string{
		{"GATEWAY_INTERFACE", "CGI/1.1"},
		{"SERVER_SOFTWARE", "wisp"},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"SERVER_NAME", host},
		{"SERVER_PORT", port},
		{"REQUEST_METHOD", req.Method},
		{"SCRIPT_NAME", script},
		{"PATH_INFO", info},
		{"PATH_TRANSLATED", info},
		{"QUERY_STRING", u.RawQuery},
		{"CONTENT_LENGTH", strconv.Itoa(len(req.Body))},
		{"CONTENT_TYPE", req.Header.Get("Content-Type")},
		{"REMOTE_ADDR", ""},
		{"REMOTE_HOST", ""},
		{"X_FULL_URL", req.URL},
		{"X_MATCHED_ROUTE", matched},
		{"X_RAW_PATH_INFO", rawInfo},
		{"X_WISP_REQUEST_ID", req.ID},
	}
	for k, vs := range req.Header {
		switch strings.ToLower(k) {
		case "content-type", "content-length":
			continue
		}
		name := "HTTP_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		env = append(env, [2]string{name, strings.Join(vs, ", ")})
	}
	return env
}

// parseCGI splits a CGI response (RFC 3875 section 6): header lines, a
// blank line, the body. "Status" sets the status, a "Location" without
// one means 302. Lines may end in LF or CRLF.
func parseCGI(out []byte) (status int, header []string, body []byte, err error) {
	status = http.StatusOK
	haveStatus, haveLocation := false, false
	rest := out
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return 0, nil, nil, errors.New("no blank line ends the headers")
		}
		line := bytes.TrimSuffix(rest[:i], []byte("\r"))
		rest = rest[i+1:]
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, nil, fmt.Errorf("header line %q has no colon", truncate(line))
		}
		n, v := string(name), strings.TrimSpace(string(value))
		if !validHeaderName(n) || !validHeaderValue(v) {
			return 0, nil, nil, fmt.Errorf("header line %q is not a valid header", truncate(line))
		}
		switch strings.ToLower(n) {
		case "status":
			code, _, _ := strings.Cut(v, " ")
			s, err := strconv.Atoi(code)
			if err != nil || len(code) != 3 || s < 200 || s > maxResponseStatus {
				return 0, nil, nil, fmt.Errorf("status %q is not a status code between 200 and %d", v, maxResponseStatus)
			}
			status, haveStatus = s, true
			continue
		case "location":
			haveLocation = true
		}
		if len(header)/2 >= maxHeaders {
			return 0, nil, nil, fmt.Errorf("more than %d headers", maxHeaders)
		}
		header = append(header, n, v)
	}
	if haveLocation && !haveStatus {
		status = http.StatusFound
	}
	return status, header, rest, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
