package main_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// durable is a service that writes what it is asked to KV and a bucket.
const durable = `export default {
  async fetch(req, env) {
    const [, , kind, key] = new URL(req.url).pathname.split('/');
    if (kind === 'secret') return new Response(env.TOKEN === undefined ? 'unset' : 'set:' + env.TOKEN.length);
    const store = kind === 'kv' ? {
      put: (k, v) => env.DATA.put(k, v), get: (k) => env.DATA.get(k), del: (k) => env.DATA.delete(k),
    } : {
      put: (k, v) => env.FILES.put(k, v), get: async (k) => { const o = await env.FILES.get(k); return o === null ? null : o.text(); }, del: (k) => env.FILES.delete(k),
    };
    if (req.method === 'PUT') { await store.put(key, await req.text()); return new Response('stored'); }
    if (req.method === 'DELETE') { await store.del(key); return new Response('deleted'); }
    const v = await store.get(key);
    return v === null ? new Response('missing', { status: 404 }) : new Response(v);
  },
};
`

// ack is what the test knows a key must be after a crash: only
// acknowledged operations count.
type ack struct {
	value   string
	deleted bool
}

func do(method, url, body string) (int, string, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestWritesSurviveKillAndRestart writes to KV and a bucket from many
// clients, kills the node with SIGKILL in the middle, restarts it, and
// checks every acknowledged write (and delete) and the secret; then a
// clean restart keeps them too.
func TestWritesSurviveKillAndRestart(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"WISP_DATA=" + data}
	serveArgs := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}
	svc := filepath.Join(work, "durable")
	if err := os.MkdirAll(svc, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := "name = \"durable\"\nmain = \"index.js\"\nroutes = [\"/dur/*\"]\n\n[[kv_namespaces]]\nbinding = \"DATA\"\n\n[[buckets]]\nbinding = \"FILES\"\n"
	for f, s := range map[string]string{"wisp.toml": toml, "index.js": durable} {
		if err := os.WriteFile(filepath.Join(svc, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	p, gw := start(t, work, serveArgs...)
	if out, code := wisp(t, work, env, "deploy", svc); code != 0 {
		t.Fatalf("deploy: %s", out)
	}
	cmd := exec.Command(wispBin, "secret", "put", "durable", "TOKEN")
	cmd.Dir, cmd.Env, cmd.Stdin = work, append(os.Environ(), env...), strings.NewReader("tok_0123456789")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secret put: %v %s", err, out)
	}

	var mu sync.Mutex
	acked := map[string]ack{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				kind := []string{"kv", "obj"}[i%2]
				path := fmt.Sprintf("/dur/%s/w%d-%d", kind, w, i)
				val := fmt.Sprintf("value %d of writer %d", i, w)
				if st, _, err := do("PUT", "http://"+gw+path, val); err == nil && st == 200 {
					mu.Lock()
					acked[path] = ack{value: val}
					mu.Unlock()
				}
				if i%5 == 4 { // delete an earlier key of the same kind
					old := fmt.Sprintf("/dur/%s/w%d-%d", kind, w, i-2)
					mu.Lock()
					_, had := acked[old]
					delete(acked, old) // unknown until the delete is acknowledged
					mu.Unlock()
					if st, _, err := do("DELETE", "http://"+gw+old, ""); err == nil && st == 200 && had {
						mu.Lock()
						acked[old] = ack{deleted: true}
						mu.Unlock()
					}
				}
			}
		}()
	}
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 400 {
			return fmt.Errorf("%d writes acknowledged so far", len(acked))
		}
		return nil
	})
	_ = p.stop(t, syscall.SIGKILL) // in the middle of the writes
	close(stop)
	wg.Wait()

	check := func(gw, when string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		var puts, deletes int
		for path, a := range acked {
			st, body, err := do("GET", "http://"+gw+path, "")
			switch {
			case err != nil:
				t.Fatalf("%s: GET %s: %v", when, path, err)
			case a.deleted && st != 404:
				t.Errorf("%s: acknowledged delete of %s undone: %d %q", when, path, st, body)
			case !a.deleted && (st != 200 || body != a.value):
				t.Errorf("%s: acknowledged write of %s lost: %d %q, want %q", when, path, st, body, a.value)
			}
			if a.deleted {
				deletes++
			} else {
				puts++
			}
		}
		if st, body, _ := do("GET", "http://"+gw+"/dur/secret/x", ""); st != 200 || body != "set:14" {
			t.Errorf("%s: the secret: %d %q", when, st, body)
		}
		t.Logf("%s: %d acknowledged writes and %d acknowledged deletes checked", when, puts, deletes)
	}

	p, gw = start(t, work, serveArgs...)
	check(gw, "after kill -9")
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.output())
	}
	_, gw = start(t, work, serveArgs...)
	check(gw, "after a clean restart")
}
