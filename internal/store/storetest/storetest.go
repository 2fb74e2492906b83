// Package storetest starts real JetStream stores for tests: an embedded one
// (the default node setup) or a standalone nats-server reached by URL (the
// cluster setup), both torn down when the test ends.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wisp-run/wisp/internal/store"
)

// Open starts an embedded JetStream store with its data in a fresh
// t.TempDir(); it is closed when the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenDir(t, t.TempDir())
}

// OpenDir starts an embedded JetStream store with its data in dir; it is
// closed when the test ends (closing it earlier, to reopen dir, is fine).
func OpenDir(t testing.TB, dir string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open embedded store in %s: %v", dir, err)
	}
	t.Cleanup(st.Close)
	return st
}

// StartServer runs a standalone nats-server with JetStream on a random
// loopback port, its data in a fresh t.TempDir(). It is shut down when the
// test ends.
func StartServer(t testing.TB) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("configure nats-server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		t.Fatal("nats-server did not become ready within 10s")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// OpenExternal starts a standalone nats-server (see StartServer) and opens
// a store on its URL, the code path of `wisp serve --nats URL`. The store
// is closed, then the server stopped, when the test ends.
func OpenExternal(t testing.TB) (st *store.Store, url string) {
	t.Helper()
	url = StartServer(t).ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Config{NATSURL: url})
	if err != nil {
		t.Fatalf("open store on %s: %v", url, err)
	}
	t.Cleanup(st.Close)
	return st, url
}
