package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// wispBin is the wisp binary built once for these tests.
var wispBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wisp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wispBin = filepath.Join(dir, "wisp")
	build := exec.Command("go", "build", "-o", wispBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build wisp:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a wisp process running in the background.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct{ p *proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// start runs wisp with args in dir and waits until its gateway and admin
// API answer; it returns the process and the gateway address.
func start(t *testing.T, dir string, args ...string) (*proc, string) {
	t.Helper()
	p := &proc{cmd: exec.Command(wispBin, args...), done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("wisp %s output:\n%s", strings.Join(args, " "), p.output())
		}
	})
	gwRe := regexp.MustCompile(`gateway\s+http://(127\.0\.0\.1:\d+)`)
	var gw string
	checkFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("wisp exited early: %v", err)
		default:
		}
		m := gwRe.FindStringSubmatch(p.output())
		if m == nil {
			return fmt.Errorf("no gateway address printed yet")
		}
		gw = m[1]
		return nil
	})
	return p, gw
}

// stop sends sig and waits for the process to exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("wisp did not exit within 30s of %v", sig)
		return nil
	}
}

// checkFor polls fn until it returns nil or total elapses.
func checkFor(t *testing.T, total, interval time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(interval)
	}
}

// wisp runs a client command in dir and returns its output and exit code.
func wisp(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(wispBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeDeployRestart runs the real binary: serve, deploy the shop,
// SIGTERM (clean exit), restart (still served), kill -9 after a deploy
// (the acknowledged deploy survives), restart again.
func TestServeDeployRestart(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"WISP_DATA=" + data}
	serveArgs := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}

	p, gw := start(t, work, serveArgs...)
	out, code := wisp(t, work, env, "deploy", repoPath(t, "examples/shop"))
	if code != 0 || strings.Count(out, "deployed version") != 7 {
		t.Fatalf("deploy: exit %d\n%s", code, out)
	}
	if st, body := httpGet(t, "http://"+gw+"/api/inventory/kayak-single"); st != 200 || !strings.Contains(body, "Single kayak") {
		t.Fatalf("inventory: %d %q", st, body)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: wisp exited with %v\n%s", err, p.output())
	}

	p, gw = start(t, work, serveArgs...)
	if st, body := httpGet(t, "http://"+gw+"/api/inventory/kayak-single"); st != 200 || !strings.Contains(body, "Single kayak") {
		t.Fatalf("after restart: %d %q", st, body)
	}
	svc := filepath.Join(work, "late")
	if out, code := wisp(t, work, env, "init", svc); code != 0 {
		t.Fatalf("init: %s", out)
	}
	if out, code := wisp(t, work, env, "deploy", svc); code != 0 {
		t.Fatalf("deploy late: %s", out)
	}
	_ = p.stop(t, syscall.SIGKILL)

	_, gw = start(t, work, serveArgs...)
	if st, body := httpGet(t, "http://"+gw+"/late/x"); st != 200 || !strings.Contains(body, "Hello from late!") {
		t.Fatalf("deploy lost by kill -9: %d %q", st, body)
	}
	out, code = wisp(t, work, env, "ls")
	if code != 0 || strings.Count(out, "\n") != 9 {
		t.Fatalf("ls after kill -9 and restart: exit %d\n%s", code, out)
	}
}

// TestDevRedeploysOnChange runs `wisp dev` on a copy of a service and
// edits it.
func TestDevRedeploysOnChange(t *testing.T) {
	work := t.TempDir()
	svc := filepath.Join(work, "svc")
	if out, code := wisp(t, work, nil, "init", svc); code != 0 {
		t.Fatal(out)
	}
	p, gw := start(t, work, "dev", svc, "--data", filepath.Join(work, ".wisp"), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if st, body := httpGet(t, "http://"+gw+"/svc/a"); st != 200 || body != "Hello from svc! You asked for /svc/a\n" {
			return fmt.Errorf("%d %q", st, body)
		}
		return nil
	})
	toml := filepath.Join(svc, "wisp.toml")
	b, _ := os.ReadFile(toml)
	if err := os.WriteFile(toml, bytes.Replace(b, []byte(`"Hello"`), []byte(`"Howdy"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if _, body := httpGet(t, "http://"+gw+"/svc/a"); body != "Howdy from svc! You asked for /svc/a\n" {
			return fmt.Errorf("%q", body)
		}
		return nil
	})
	// A broken edit is reported and the last good version keeps serving.
	src := filepath.Join(svc, "src", "index.js")
	if err := os.WriteFile(src, []byte("export default { fetch( }"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(p.output(), "src/index.js:1:") {
			return fmt.Errorf("bundle error not reported yet")
		}
		return nil
	})
	if _, body := httpGet(t, "http://"+gw+"/svc/a"); body != "Howdy from svc! You asked for /svc/a\n" {
		t.Fatalf("last good version not served: %q", body)
	}
	// Logs of the service reach the terminal.
	if !strings.Contains(p.output(), "[svc] GET /svc/a 200") {
		t.Fatalf("no request log on the terminal:\n%s", p.output())
	}
	if err := p.stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("Ctrl-C: %v", err)
	}
}

// TestREADME runs the README's console blocks against `wisp dev
// examples/shop`: every "$ " line is run and its output compared with the
// lines shown ("..." matches anything; a line of "..." any lines).
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile(repoPath(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := consoleSteps(string(readme))
	if len(steps) < 10 {
		t.Fatalf("found only %d console steps in README.md", len(steps))
	}
	work := t.TempDir()
	if err := os.Symlink(wispBin, filepath.Join(work, "wisp")); err != nil {
		t.Fatal(err)
	}
	_, gw := start(t, work, "dev", repoPath(t, "examples/shop"), "--data", filepath.Join(work, ".wisp"), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if st, _ := httpGet(t, "http://"+gw+"/"); st != 200 {
			return fmt.Errorf("shop not deployed yet: %d", st)
		}
		return nil
	})
	for _, s := range steps {
		cmdline := strings.ReplaceAll(s.cmd, "127.0.0.1:8080", gw)
		want := strings.ReplaceAll(s.want, "127.0.0.1:8080", gw)
		got := runStep(t, work, cmdline)
		if !matchOutput(want, got) {
			t.Errorf("README step\n  $ %s\nwant:\n%s\ngot:\n%s", s.cmd, want, got)
		}
	}
}

type step struct{ cmd, want string }

func consoleSteps(md string) []step {
	var steps []step
	in := false
	var cur *step
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			in = false
			cur = nil
		case in && strings.HasPrefix(line, "$ "):
			steps = append(steps, step{cmd: line[2:]})
			cur = &steps[len(steps)-1]
		case in && cur != nil:
			cur.want += line + "\n"
		}
	}
	return steps
}

// runStep runs one README command. curl is emulated (so the test needs no
// curl); ./wisp is the built binary; anything else goes to sh.
func runStep(t *testing.T, dir, cmdline string) string {
	t.Helper()
	args := shellSplit(cmdline)
	if len(args) > 0 && args[0] == "curl" {
		return curl(t, args[1:])
	}
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func curl(t *testing.T, args []string) string {
	t.Helper()
	method, body, url := "GET", "", ""
	include := false
	hdr := http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s":
		case "-i":
			include = true
		case "-X":
			i++
			method = args[i]
		case "-d":
			i++
			body = args[i]
			if method == "GET" {
				method = "POST"
			}
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			hdr.Add(k, strings.TrimSpace(v))
		default:
			if strings.HasPrefix(a, "-") {
				t.Fatalf("curl emulation does not know %s", a)
			}
			url = a
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	if body != "" && hdr.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d does
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("curl %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out strings.Builder
	if include {
		fmt.Fprintf(&out, "HTTP/1.1 %s\n", resp.Status)
		var lines []string
		for k, vs := range resp.Header {
			for _, v := range vs {
				lines = append(lines, k+": "+v)
			}
		}
		sortStrings(lines)
		for _, l := range lines {
			out.WriteString(l + "\n")
		}
		out.WriteString("\n")
	}
	out.Write(b)
	return out.String()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// shellSplit splits a command line, honouring single and double quotes.
func shellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// matchOutput compares output with the README's expectation: "..." in a
// line matches any text, a line that is only "..." matches any lines.
func matchOutput(want, got string) bool {
	w := strings.Split(strings.TrimRight(want, "\n"), "\n")
	g := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if strings.TrimSpace(want) == "" {
		return strings.TrimSpace(got) == ""
	}
	return matchLines(w, g)
}

func matchLines(w, g []string) bool {
	if len(w) == 0 {
		return len(g) == 0
	}
	if w[0] == "..." {
		for i := 0; i <= len(g); i++ {
			if matchLines(w[1:], g[i:]) {
				return true
			}
		}
		return false
	}
	if len(g) == 0 {
		return false
	}
	parts := strings.Split(w[0], "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
	return re.MatchString(strings.TrimRight(g[0], " ")) && matchLines(w[1:], g[1:])
}

func TestMatchOutput(t *testing.T) {
	tests := []struct {
		want, got string
		match     bool
	}{
		{"a\nb\n", "a\nb\n", true},
		{"a\nb\n", "a\nc\n", false},
		{"a\n", "a\nb\n", false},
		{"a\n...\nd\n", "a\nb\nc\nd\n", true},
		{"a\n...\nd\n", "a\nb\nc\n", false},
		{"id ...!\n", "id 42!\n", true},
		{"id ...!\n", "id 42?\n", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tc := range tests {
		if got := matchOutput(tc.want, tc.got); got != tc.match {
			t.Errorf("matchOutput(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.match)
		}
	}
}
