package store_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// putGet writes a key and an object through st and reads them back.
func putGet(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := testCtx(t)
	kv, err := st.KV(ctx, jetstream.KeyValueConfig{Bucket: "test-kv"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("put: %v", err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("get = %v, %v; want v", e, err)
	}
	obj, err := st.Objects(ctx, jetstream.ObjectStoreConfig{Bucket: "test-obj"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.PutBytes(ctx, "o", []byte("object")); err != nil {
		t.Fatalf("put object: %v", err)
	}
}

func TestEmbeddedReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenDir(t, dir)
	if !st.Embedded() || st.Replicas() != 1 {
		t.Fatalf("Embedded() = %v, Replicas() = %d; want true, 1", st.Embedded(), st.Replicas())
	}
	putGet(t, st)
	st.Close()
	st.Close() // closing twice is harmless

	st = storetest.OpenDir(t, dir)
	ctx := testCtx(t)
	kv, err := st.KV(ctx, jetstream.KeyValueConfig{Bucket: "test-kv"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("after reopen: get = %v, %v; want v", e, err)
	}
	obj, err := st.Objects(ctx, jetstream.ObjectStoreConfig{Bucket: "test-obj"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := obj.GetBytes(ctx, "o"); err != nil || string(b) != "object" {
		t.Fatalf("after reopen: object = %q, %v; want %q", b, err, "object")
	}
}

func TestExternal(t *testing.T) {
	st, url := storetest.OpenExternal(t)
	if st.Embedded() {
		t.Fatal("Embedded() = true for a store opened on a URL")
	}
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("url = %q; want a loopback nats:// URL", url)
	}
	if got := st.NC.ConnectedUrl(); got != url {
		t.Fatalf("connected to %q; want %q", got, url)
	}
	putGet(t, st)
}

func TestOpenErrors(t *testing.T) {
	noJS := startServerWithoutJetStream(t)
	tests := []struct {
		name        string
		cfg         store.Config
		expectedErr string
	}{
		{
			name:        "no data dir",
			cfg:         store.Config{},
			expectedErr: "a data directory is required",
		},
		{
			name:        "nothing listening",
			cfg:         store.Config{NATSURL: "nats://" + freeAddr(t)},
			expectedErr: "connect to NATS at nats://127.0.0.1:",
		},
		{
			name:        "server without JetStream",
			cfg:         store.Config{NATSURL: noJS},
			expectedErr: "JetStream is not available on this NATS server",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			st, err := store.Open(testCtx(t), tc.cfg)
			if err == nil {
				st.Close()
				t.Fatalf("Open succeeded; want error containing %q", tc.expectedErr)
			}
			if !strings.Contains(err.Error(), tc.expectedErr) {
				t.Fatalf("error = %q; want it to contain %q", err, tc.expectedErr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("Open took %v to fail; want a prompt error", d)
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	_, url := storetest.OpenExternal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st, err := store.Open(ctx, store.Config{NATSURL: url}); err == nil {
		st.Close()
		t.Fatal("Open with a canceled context succeeded")
	} else if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v; want context.Canceled", err)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func startServerWithoutJetStream(t *testing.T) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}
