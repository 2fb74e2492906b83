package wasm

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
)

// testCacheDir is shared with wasmtest.CacheDir: compiled code survives
// across test binaries and runs (wazero writes entries atomically).
var testCacheDir = filepath.Join(os.TempDir(), "wisp-test-wasm-cache")

func init() { sharedEngine = NewEngine(testCacheDir) }

var (
	guestOnce sync.Once
	guestCode []byte
	guestErr  error
)

// goTool is the go command that runs these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(goruntime.GOROOT(), "bin", "go")
}

// guestModule builds testdata/guest with the SDK as it is now (Go's build
// cache makes this quick after the first time).
func guestModule(t testing.TB) []byte {
	t.Helper()
	guestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wisp-guest-")
		if err != nil {
			guestErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "guest.wasm")
		cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-o", out, "./testdata/guest")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			guestErr = &buildError{err: err, out: string(b)}
			return
		}
		guestCode, guestErr = os.ReadFile(out)
	})
	if guestErr != nil {
		t.Fatalf("build testdata/guest: %v", guestErr)
	}
	return guestCode
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
