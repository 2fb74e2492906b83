package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/wisp-run/wisp/internal/runtime"
)

// fakeModule makes fakeInstances and checks the pool's promises: never
// more than max instances alive, one invocation per instance at a time,
// no instance used or closed twice or closed while busy.
type fakeModule struct {
	max       int   // instances alive at most; 0: no limit
	memPerUse int64 // MemoryBytes grows by this much per invocation
	onNew     func()
	onClose   func()
	closed    atomic.Bool // Close of the module was called

	mu        sync.Mutex
	newErr    error         // NewInstance fails with it when set
	newBlock  chan struct{} // NewInstance waits for it when set
	fetch     func(ctx context.Context, in *fakeInstance, req *runtime.Request) error
	created   int
	instances []*fakeInstance

	alive, running, maxRunning atomic.Int64
	violations                 []string
}

type fakeInstance struct {
	mod    *fakeModule
	id     int
	busy   atomic.Bool
	closed atomic.Bool
	uses   atomic.Int64
}

var _ runtime.Module = (*fakeModule)(nil)
var _ runtime.Instance = (*fakeInstance)(nil)

func (m *fakeModule) NewInstance(ctx context.Context) (runtime.Instance, error) {
	m.mu.Lock()
	err, block := m.newErr, m.newBlock
	m.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.created++
	in := &fakeInstance{mod: m, id: m.created}
	m.instances = append(m.instances, in)
	if m.onNew != nil {
		m.onNew()
	}
	if n := m.alive.Add(1); m.max > 0 && n > int64(m.max) {
		m.violations = append(m.violations, fmt.Sprintf("%d instances alive, max %d", n, m.max))
	}
	return in, nil
}

func (m *fakeModule) Close() {
	if !m.closed.CompareAndSwap(false, true) {
		m.violate("module closed twice")
	}
}

func (m *fakeModule) violate(format string, args ...any) {
	m.mu.Lock()
	m.violations = append(m.violations, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

func (m *fakeModule) setNewErr(err error) {
	m.mu.Lock()
	m.newErr = err
	m.mu.Unlock()
}

func (m *fakeModule) stats() (created int, closed int, violations []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.instances {
		if in.closed.Load() {
			closed++
		}
	}
	return m.created, closed, append([]string(nil), m.violations...)
}

func (in *fakeInstance) Fetch(ctx context.Context, req *runtime.Request, w http.ResponseWriter) error {
	m := in.mod
	if in.closed.Load() {
		m.violate("instance %d used after Close", in.id)
	}
	if !in.busy.CompareAndSwap(false, true) {
		m.violate("instance %d used by two invocations at once", in.id)
	}
	defer in.busy.Store(false)
	in.uses.Add(1)
	n := m.running.Add(1)
	defer m.running.Add(-1)
	for {
		old := m.maxRunning.Load()
		if n <= old || m.maxRunning.CompareAndSwap(old, n) {
			break
		}
	}
	m.mu.Lock()
	f := m.fetch
	m.mu.Unlock()
	if f != nil {
		if err := f(ctx, in, req); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (in *fakeInstance) Close() {
	if in.busy.Load() {
		in.mod.violate("instance %d closed while busy", in.id)
	}
	if !in.closed.CompareAndSwap(false, true) {
		in.mod.violate("instance %d closed twice", in.id)
		return
	}
	in.mod.alive.Add(-1)
	if in.mod.onClose != nil {
		in.mod.onClose()
	}
}

func (in *fakeInstance) MemoryBytes() int64 { return in.uses.Load() * in.mod.memPerUse }

// gate makes fetches block until released; requests name what to do.
type gate struct {
	entered chan *fakeInstance
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan *fakeInstance, 100), release: make(chan struct{})}
}

// behave is a fetch func: requests with URL "block" wait on g (or their
// ctx), "panic" panics, and URL "err:<kind>" fails with that kind.
func (g *gate) behave(ctx context.Context, in *fakeInstance, req *runtime.Request) error {
	switch req.URL {
	case "block":
		g.entered <- in
		select {
		case <-g.release:
			return nil
		case <-ctx.Done():
			return runtime.Errorf(runtime.Timeout, "timed out")
		}
	case "panic":
		panic("guest host bug")
	}
	return kindErr(req.URL)
}

func kindErr(url string) error {
	switch url {
	case "err:exception":
		return runtime.Errorf(runtime.Exception, "boom")
	case "err:badresponse":
		return runtime.Errorf(runtime.BadResponse, "not a Response")
	case "err:timeout":
		return runtime.Errorf(runtime.Timeout, "too slow")
	case "err:crash":
		return runtime.Errorf(runtime.Crash, "trap")
	case "err:host":
		return errors.New("host failure")
	case "err:wrapped-exception":
		return fmt.Errorf("wrapped: %w", runtime.Errorf(runtime.Exception, "boom"))
	}
	return nil
}
