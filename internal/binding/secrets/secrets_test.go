package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/binding/secrets"
	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

var ctx = context.Background()

func open(t *testing.T, st *store.Store, dir string) *secrets.Store {
	t.Helper()
	s, err := secrets.Open(ctx, st, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const value = "sk_live_do-not-leak-4242"

func TestSealedAtRestAndOpenedForTheService(t *testing.T) {
	st := storetest.Open(t)
	dir := t.TempDir()
	s := open(t, st, dir)
	if err := s.KeyError(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, secrets.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if _, err := s.Put(ctx, "payments", "API_KEY", value); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "payments", "OTHER", "x"); err != nil {
		t.Fatal(err)
	}
	// What the store holds does not contain the value.
	kv, err := st.JS.KeyValue(ctx, secrets.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "svc.payments.API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(e.Value()), value) || strings.Contains(string(e.Value()), "do-not-leak") {
		t.Fatalf("secret stored in the clear: %s", e.Value())
	}
	vals, err := s.Values(ctx, "payments")
	if err != nil || vals["API_KEY"] != value || vals["OTHER"] != "x" || len(vals) != 2 {
		t.Fatalf("values %v %v", len(vals), err)
	}
	list, err := s.List(ctx, "payments")
	if err != nil || len(list) != 2 || list[0].Name != "API_KEY" || list[0].Updated.IsZero() {
		t.Fatalf("list %+v %v", list, err)
	}
	b, _ := json.Marshal(list)
	if strings.Contains(string(b), value) {
		t.Fatal("list shows the value")
	}
	if vals, err := s.Values(ctx, "other-service"); err != nil || len(vals) != 0 {
		t.Fatalf("another service sees %d secrets (%v)", len(vals), err)
	}

	// A sealed entry copied into another service's slot does not open.
	if _, err := kv.Put(ctx, "svc.thief.API_KEY", e.Value()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Values(ctx, "thief"); err == nil || !strings.Contains(err.Error(), "altered or moved") {
		t.Fatalf("moved secret opened: %v", err)
	}

	if _, err := s.Delete(ctx, "payments", "OTHER"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "payments", "OTHER"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if vals, _ := s.Values(ctx, "payments"); len(vals) != 1 {
		t.Fatalf("after delete: %d values", len(vals))
	}

	// The same data dir reopens with the same key.
	if vals, err := open(t, st, dir).Values(ctx, "payments"); err != nil || vals["API_KEY"] != value {
		t.Fatalf("reopened: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	s := open(t, storetest.Open(t), t.TempDir())
	for _, tc := range []struct{ name, value, expectedErr string }{
		{"9LIVES", "x", "not a valid secret name"},
		{"A.B", "x", "not a valid secret name"},
		{"", "x", "not a valid secret name"},
		{"BIG", strings.Repeat("x", secrets.MaxValueBytes+1), "over the limit of 5120"},
	} {
		if _, err := s.Put(ctx, "svc", tc.name, tc.value); err == nil || !strings.Contains(err.Error(), tc.expectedErr) {
			t.Errorf("put %q: %v, want %q", tc.name, err, tc.expectedErr)
		}
	}
}

func TestClusterKey(t *testing.T) {
	st := storetest.Open(t)
	first := t.TempDir()
	a := open(t, st, first)
	if _, err := a.Put(ctx, "svc", "K", value); err != nil {
		t.Fatal(err)
	}

	// A second node without the key runs, but cannot seal or open.
	keyless := t.TempDir()
	b := open(t, st, keyless)
	if err := b.KeyError(); err == nil || !strings.Contains(err.Error(), "copy secrets.key") {
		t.Fatalf("keyless node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(keyless, secrets.KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a node joining a cluster made its own key")
	}
	if _, err := b.Values(ctx, "svc"); err == nil || !strings.Contains(err.Error(), "service svc has secrets") {
		t.Fatalf("keyless node opened secrets: %v", err)
	}
	if _, err := b.Put(ctx, "svc", "K", "x"); err == nil {
		t.Fatal("keyless node sealed a secret")
	}
	if vals, err := b.Values(ctx, "no-secrets"); err != nil || vals != nil {
		t.Fatalf("a service without secrets needs no key: %v", err)
	}

	// With another key it says so.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, secrets.KeyFile), []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := open(t, st, other).KeyError(); err == nil || !strings.Contains(err.Error(), "is not the cluster's") {
		t.Fatalf("wrong key: %v", err)
	}

	// With the first node's key copied, it works.
	key, _ := os.ReadFile(filepath.Join(first, secrets.KeyFile))
	copied := t.TempDir()
	if err := os.WriteFile(filepath.Join(copied, secrets.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if vals, err := open(t, st, copied).Values(ctx, "svc"); err != nil || vals["K"] != value {
		t.Fatalf("copied key: %v", err)
	}

	// A key file others can read is refused.
	loose := t.TempDir()
	if err := os.WriteFile(filepath.Join(loose, secrets.KeyFile), key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Open(ctx, st, loose); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: %v", err)
	}
}

func TestKeyIDIsNotTheKey(t *testing.T) {
	st := storetest.Open(t)
	dir := t.TempDir()
	open(t, st, dir)
	key, _ := os.ReadFile(filepath.Join(dir, secrets.KeyFile))
	kv, _ := st.JS.KeyValue(ctx, secrets.Bucket)
	keys, _ := kv.ListKeys(ctx)
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatal(err)
		}
		if e != nil && strings.Contains(string(e.Value()), strings.TrimSpace(string(key))[:16]) {
			t.Fatalf("entry %s reveals the key", k)
		}
	}
}
