package conformance

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-run/wisp/internal/cli"
	"github.com/wisp-run/wisp/internal/logs"
)

// wispCLI runs the wisp command line in-process against the suite's node.
func (s *suite) wispCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := map[string]string{"WISP_SERVER": s.n.AdminURL(), "WISP_TOKEN": s.n.Token()}
	code = cli.Main(ctx, args, cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// rawAPI does an admin API call and returns the raw response body.
func (s *suite) rawAPI(method, path, body string) string {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.n.AdminURL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.n.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(b)
}

func TestSecrets(t *testing.T) {
	forEachRunner(t, func(t *testing.T, s *suite) {
		const first, second = "sk_live_first-4f9a0c", "sk_live_second-77de21"
		var seen []logs.Entry
		entries, cancel := s.hub.Subscribe(nil, 4096)
		defer cancel()
		collected := make(chan struct{})
		go func() {
			defer close(collected)
			for e := range entries {
				seen = append(seen, e)
			}
		}()
		var outputs []string // everything the API and CLI printed

		// Set before the service exists: it is there at the first deploy.
		res, err := s.c.PutSecret(context.Background(), "payments", "API_KEY", first)
		if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "does not exist yet") {
			t.Fatalf("put before deploy: %+v %v", res, err)
		}
		s.deploy("payments", "[vars]\nMODE = \"test\"\n")
		if got := s.ok("payments", m{"op": "env.equals", "name": "API_KEY", "value": first}); got != true {
			t.Fatal("the service does not see the secret")
		}
		if got := s.ok("payments", m{"op": "env.types"}); asMap(t, got)["API_KEY"] != "string" {
			t.Fatalf("env types: %v", got)
		}

		// Changed through the CLI (stdin): the running service gets it
		// without a redeploy.
		code, out, errOut := s.wispCLI(second+"\n", "secret", "put", "payments", "API_KEY")
		outputs = append(outputs, out, errOut)
		if code != 0 || out != "payments: secret API_KEY set\n" {
			t.Fatalf("secret put: %d %q %q", code, out, errOut)
		}
		if got := s.ok("payments", m{"op": "env.equals", "name": "API_KEY", "value": second}); got != true {
			t.Fatal("the service did not pick up the new secret")
		}
		if got := s.ok("payments", m{"op": "env.length", "name": "API_KEY"}); got != float64(len(second)) {
			t.Fatalf("the trailing newline was kept: length %v", got)
		}

		for _, args := range [][]string{
			{"secret", "ls", "payments"},
			{"secret", "ls", "payments", "--json"},
			{"secret", "put", "payments", "9BAD"},
		} {
			code, out, errOut := s.wispCLI("x", args...)
			outputs = append(outputs, out, errOut)
			if args[1] == "ls" && (code != 0 || !strings.Contains(out, "API_KEY")) {
				t.Fatalf("%v: %d %q %q", args, code, out, errOut)
			}
		}
		if code, _, errOut := s.wispCLI("", "secret", "put", "payments", "EMPTY"); code != cli.ExitUsage || !strings.Contains(errOut, "no secret value on stdin") {
			t.Fatalf("empty stdin: %d %q", code, errOut)
		}
		outputs = append(outputs,
			s.rawAPI("GET", "/v1/services/payments/secrets", ""),
			s.rawAPI("PUT", "/v1/services/payments/secrets/OTHER", `{"value": "`+first+`"}`),
			s.rawAPI("PUT", "/v1/services/payments/secrets/BROKEN", `{"value": "`+first+`", "oops": 1}`),
			s.rawAPI("PUT", "/v1/services/payments/secrets/BROKEN", `not json `+first),
			s.rawAPI("GET", "/v1/services/payments", ""),
			s.rawAPI("GET", "/v1/services/payments/versions", ""),
		)
		if !strings.Contains(outputs[len(outputs)-4], `a secret put is JSON`) {
			t.Fatalf("a bad secret body was not refused: %s", outputs[len(outputs)-4])
		}

		// Removed: the service no longer sees it.
		if code, out, _ := s.wispCLI("", "secret", "rm", "payments", "API_KEY"); code != 0 || out != "payments: secret API_KEY removed\n" {
			t.Fatalf("secret rm: %d %q", code, out)
		}
		if got := s.ok("payments", m{"op": "env.types"}); asMap(t, got)["API_KEY"] != nil {
			t.Fatalf("removed secret still in env: %v", got)
		}
		if code, _, errOut := s.wispCLI("", "secret", "rm", "payments", "API_KEY"); code != cli.ExitFailure || !strings.Contains(errOut, "no such secret") {
			t.Fatalf("second rm: %d %q", code, errOut)
		}

		// Nothing printed, logged or stored in the clear holds a value.
		_ = s.n.Shutdown(context.Background())
		cancel()
		<-collected
		var logText strings.Builder
		for _, e := range seen {
			logText.WriteString(e.Message + "\n")
		}
		for what, text := range map[string]string{
			"API and CLI output": strings.Join(outputs, "\n"),
			"the node's log":     s.log.String(),
			"the service logs":   logText.String(),
		} {
			for _, v := range []string{first, second} {
				if strings.Contains(text, v) {
					t.Errorf("%s contains a secret value:\n%s", what, text)
				}
			}
		}
		if len(seen) == 0 || s.log.String() == "" {
			t.Fatal("no logs were collected: the check above proved nothing")
		}
		sawEntry := false // the scan must find the sealed entries themselves
		err = filepath.WalkDir(filepath.Join(s.dataDir, "jetstream"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sawEntry = sawEntry || bytes.Contains(b, []byte("svc.payments.OTHER"))
			for _, v := range []string{first, second} {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s holds a secret value in the clear", path)
				}
			}
			return nil
		})
		if err != nil || !sawEntry {
			t.Fatalf("scanning the store: %v (found the sealed entries: %v)", err, sawEntry)
		}
	})
}
