package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/gateway"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/observe"
	"github.com/wisp-run/wisp/internal/registry"
	"github.com/wisp-run/wisp/internal/runtime"
	"github.com/wisp-run/wisp/internal/runtime/js"
	"github.com/wisp-run/wisp/internal/runtime/wasm"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/usage"
)

// Config says where a node keeps its data and where it listens.
type Config struct {
	DataDir string // default ./.wisp
	Listen  string // gateway address, default 127.0.0.1:8080; ":0" picks a port
	Admin   string // admin API address, default 127.0.0.1:8081
	NATSURL string // external NATS instead of the embedded server
	// ShutdownGrace bounds how long in-flight requests may take to finish
	// on shutdown. Default 10s.
	ShutdownGrace time.Duration
	MaxBodyBytes  int64
	Scale         Scale        // instance pools and the node-wide budget
	Logger        *slog.Logger // the platform's own log
	Logs          *logs.Hub    // service logs; a new hub when nil
	// OutboundAllowNets are address ranges services' outbound fetch may
	// reach although they are loopback, private, link-local or metadata
	// addresses (never without an allowed_hosts entry too).
	OutboundAllowNets []netip.Prefix
	// Now is the clock of KV expiry; tests move it. Default time.Now.
	Now func() time.Time
	// WasmCacheDir holds compiled wasm code; default DATA/wasm-cache.
	WasmCacheDir string
	Observe      Observability
	Triggers     TriggersConfig
}

// Defaults for Config.
const (
	DefaultDataDir = ".wisp"
	DefaultListen  = "127.0.0.1:8080"
	DefaultAdmin   = "127.0.0.1:8081"
	// WasmCacheDir (under the data dir) holds compiled wasm code, so a
	// restarted node does not compile its modules again.
	WasmCacheDir = "wasm-cache"
)

// Node is one running wisp node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	logs    *logs.Hub
	engines map[string]runtime.Engine

	lock     *os.File
	token    string
	store    *store.Store
	reg      *registry.Registry
	logStore *logs.Store
	sink     logs.Sink         // where services' entries go: the hub and the log store
	data     *dataPlane        // what bindings reach (bindings.go)
	obs      *observe.Observer // nil when observability is off
	meter    *usage.Meter
	trig     *triggers // queues, jobs and cron (triggers.go)

	snap   atomic.Pointer[gateway.Snapshot]
	budget *dispatch.Budget
	// reqCtx is the base context of gateway requests; canceled when the
	// shutdown grace period ends, which interrupts guests still running.
	reqCtx    context.Context
	reqCancel context.CancelFunc

	mu        sync.Mutex
	services  map[string]*dispatch.Service // active version of each service, loaded
	preloaded map[string]*dispatch.Service // loaded by a local deploy, waiting for the watch; key service@version
	applied   uint64                       // registry revision applied
	changed   chan struct{}                // closed and replaced after every apply
	ready     atomic.Bool

	gw       *gateway.Gateway
	servers  []*http.Server
	gwAddr   string
	adminURL string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New makes a node from cfg; Start runs it.
func New(cfg Config) *Node {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Admin == "" {
		cfg.Admin = DefaultAdmin
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.WasmCacheDir == "" {
		cfg.WasmCacheDir = filepath.Join(cfg.DataDir, WasmCacheDir)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Logs == nil {
		cfg.Logs = logs.NewHub()
	}
	n := &Node{
		cfg:       cfg,
		log:       cfg.Logger,
		logs:      cfg.Logs,
		engines:   map[string]runtime.Engine{"js": js.Engine{}, "wasm": wasm.NewEngine(cfg.WasmCacheDir)},
		services:  map[string]*dispatch.Service{},
		preloaded: map[string]*dispatch.Service{},
		changed:   make(chan struct{}),
	}
	n.cfg.Scale = n.cfg.Scale.withDefaults()
	n.budget = dispatch.NewBudget(n.cfg.Scale.MaxInstances, int64(n.cfg.Scale.MaxMemoryMB)<<20)
	n.reqCtx, n.reqCancel = context.WithCancel(context.Background())
	n.snap.Store(&gateway.Snapshot{Services: map[string]*dispatch.Service{}})
	n.gw = &gateway.Gateway{
		Snapshot: n.snap.Load, Log: n.log, Logs: n.logs, MaxBodyBytes: cfg.MaxBodyBytes,
		BodyTimeout: n.cfg.Scale.BodyTimeout, MaxHeaderCount: n.cfg.Scale.MaxHeaderCount,
	}
	return n
}

// Start opens the store, loads every service, and starts serving. It
// returns once the gateway and admin API accept connections.
func (n *Node) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			n.closeState()
		}
	}()
	if n.lock, err = lockDataDir(n.cfg.DataDir); err != nil {
		return err
	}
	var created bool
	if n.token, created, err = loadOrCreateToken(n.cfg.DataDir); err != nil {
		return err
	}
	if created {
		n.log.Info("created admin token", "file", filepath.Join(n.cfg.DataDir, TokenFile))
	}
	if n.store, err = store.Open(ctx, store.Config{DataDir: n.cfg.DataDir, NATSURL: n.cfg.NATSURL, Logger: n.log}); err != nil {
		return err
	}
	if n.reg, err = registry.Open(ctx, n.store); err != nil {
		return err
	}
	if n.logStore, err = logs.OpenStore(ctx, n.store.JS, logs.StoreConfig{Replicas: n.store.Replicas(), Logger: n.log}); err != nil {
		return err
	}
	n.sink = logs.Tee{n.logs, n.logStore}
	n.gw.Logs = n.sink
	if err := n.startObserve(ctx); err != nil {
		return err
	}
	if err := n.openData(ctx); err != nil {
		return err
	}
	if err := n.startTriggers(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	changes, err := n.reg.Watch(runCtx)
	if err != nil {
		return err
	}
	if err := n.replay(ctx, changes); err != nil {
		return err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for ch := range changes {
			n.apply(runCtx, ch, true)
		}
	}()
	if err := n.listen(); err != nil {
		return err
	}
	n.ready.Store(true)
	n.log.Info("node started", "gateway", n.gwAddr, "admin", n.adminURL, "data", n.cfg.DataDir, "embedded_nats", n.store.Embedded())
	return nil
}

// replay applies the registry as it is now, before serving: every
// service is loaded in parallel and the route table published once.
func (n *Node) replay(ctx context.Context, changes <-chan registry.Change) error {
	var batch []registry.Change
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ch, ok := <-changes:
			if !ok {
				return errors.New("registry watch ended during start-up")
			}
			if ch.Replayed {
				start := time.Now()
				n.applyAll(ctx, batch)
				n.log.Info("services loaded", "count", len(batch), "took", time.Since(start).Round(time.Millisecond))
				return nil
			}
			batch = append(batch, ch)
		}
	}
}

func (n *Node) listen() error {
	gwLn, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway listen on %s: %w", n.cfg.Listen, err)
	}
	adminLn, err := net.Listen("tcp", n.cfg.Admin)
	if err != nil {
		gwLn.Close()
		return fmt.Errorf("admin API listen on %s: %w", n.cfg.Admin, err)
	}
	n.gwAddr = gwLn.Addr().String()
	n.adminURL = "http://" + adminLn.Addr().String()
	if err := writeFileAtomic(filepath.Join(n.cfg.DataDir, URLFile), []byte(n.adminURL+"\n"), 0o600); err != nil {
		gwLn.Close()
		adminLn.Close()
		return fmt.Errorf("write %s: %w", URLFile, err)
	}
	errLog := slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)
	gwSrv := &http.Server{
		Handler: n.gw, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: n.cfg.Scale.MaxHeaderBytes, ErrorLog: errLog,
		BaseContext: func(net.Listener) context.Context { return n.reqCtx },
	}
	adminSrv := &http.Server{Handler: api.New(n, n.token), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	n.servers = []*http.Server{gwSrv, adminSrv}
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{gwSrv, gwLn}, {adminSrv, adminLn}} {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("server stopped", "addr", s.ln.Addr().String(), "error", err)
			}
		}()
	}
	return nil
}

// GatewayAddr is the address the gateway listens on.
func (n *Node) GatewayAddr() string { return n.gwAddr }

// AdminURL is the base URL of the admin API.
func (n *Node) AdminURL() string { return n.adminURL }

// Token is the admin API token.
func (n *Node) Token() string { return n.token }

// LogHub is where service logs are published.
func (n *Node) LogHub() *logs.Hub { return n.logs }

// Ready reports whether the registry is loaded and routes are live.
func (n *Node) Ready() bool { return n.ready.Load() }

// Shutdown stops accepting requests, lets in-flight ones finish within the
// grace period (or until ctx ends), then closes everything. Invocations
// that did not come through the gateway (admin invoke, triggers) are
// drained too: every pool is closed and awaited. Guests still running when
// the grace period ends are interrupted.
func (n *Node) Shutdown(ctx context.Context) error {
	n.ready.Store(false)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ShutdownGrace)
	defer cancel()
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range n.servers {
		wg.Go(func() {
			if err := s.Shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n.stopTriggers(ctx) // queue batches and jobs under way finish on open pools
	if err := n.drainPools(ctx); err != nil {
		errs = append(errs, err)
	}
	n.reqCancel() // interrupts whatever outlived the grace period
	for _, s := range n.servers {
		s.Close()
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	n.closeState()
	return errors.Join(errs...)
}

// drainPools closes every pool and waits until their in-flight
// invocations finished, or ctx ends.
func (n *Node) drainPools(ctx context.Context) error {
	n.mu.Lock()
	var pools []*dispatch.Pool
	for _, s := range n.services {
		pools = append(pools, s.Pool)
	}
	for _, s := range n.preloaded {
		pools = append(pools, s.Pool)
	}
	n.mu.Unlock()
	for _, p := range pools {
		p.Close()
	}
	for _, p := range pools {
		select {
		case <-p.Drained():
		case <-ctx.Done():
			return fmt.Errorf("draining in-flight invocations: %w", ctx.Err())
		}
	}
	return nil
}

func (n *Node) closeState() {
	grace, cancelGrace := context.WithTimeout(context.Background(), n.cfg.ShutdownGrace)
	n.stopTriggers(grace) // batches and jobs in progress finish first
	cancelGrace()
	n.mu.Lock()
	for _, s := range n.services {
		s.Pool.Close()
	}
	for _, s := range n.preloaded {
		s.Pool.Close()
	}
	n.services = map[string]*dispatch.Service{}
	n.preloaded = map[string]*dispatch.Service{}
	n.mu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	n.stopObserve()
	n.closeData()
	if n.logStore != nil {
		n.logStore.Close() // flushes queued entries
		n.logStore = nil
	}
	if n.store != nil {
		n.store.Close()
		n.store = nil
	}
	if n.lock != nil {
		n.lock.Close()
		n.lock = nil
	}
}
