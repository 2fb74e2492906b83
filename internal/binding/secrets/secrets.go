// Package secrets owns service secrets: values set with `wisp secret put`,
// handed to the service as env values, and shown to no one else.
//
// They are stored in the KV bucket wisp-secrets, one entry per secret
// (svc.<service>.<NAME>), sealed with AES-256-GCM under a key that never
// leaves the nodes: DATA/secrets.key (mode 0600). The additional data
// binds each ciphertext to its service and name, so an entry copied to
// another slot does not open.
//
// One key serves a whole cluster. The first node to start creates it and
// records its id (a hash, not the key) in the bucket; a node started later
// with another key, or with none, still serves everything else but cannot
// load a service that has secrets, and says why (copy secrets.key from a
// node of the cluster into its data directory). The alternative, a key
// per node with every secret sealed once per node, would need a running
// node to re-seal for each new one; a shared key file is what operators of
// Vault, Kubernetes and NATS itself already handle.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// Bucket is the KV bucket holding sealed secrets.
const Bucket = "wisp-secrets"

// KeyFile is the key's file in the data directory.
const KeyFile = "secrets.key"

// Limits on secrets (Cloudflare's for environment values).
const (
	MaxValueBytes = 5 << 10
	MaxPerService = 128
)

const keyIDEntry = "key-id"

var nameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// ValidName reports whether s can name a secret (as a binding name: it
// becomes env.NAME).
func ValidName(s string) bool { return nameRe.MatchString(s) }

// ErrNotFound means there is no such secret.
var ErrNotFound = errors.New("no such secret")

// Error is a secrets call refused: bad input (400) or a node that cannot
// seal secrets (503).
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// HTTPStatus is the status the admin API answers with.
func (e *Error) HTTPStatus() int { return e.Status }

func badInput(format string, args ...any) *Error {
	return &Error{Status: 400, Msg: fmt.Sprintf(format, args...)}
}

// Store reads and writes one node's view of the secrets.
type Store struct {
	kv     jetstream.KeyValue
	aead   cipher.AEAD // nil when this node cannot seal or open secrets
	keyID  string
	keyErr error // why aead is nil
	now    func() time.Time
}

// Info describes a secret without its value.
type Info struct {
	Name    string    `json:"name"`
	Updated time.Time `json:"updated"`
}

type sealed struct {
	V       int       `json:"v"`
	KeyID   string    `json:"kid"`
	Nonce   []byte    `json:"nonce"`
	Sealed  []byte    `json:"sealed"`
	Updated time.Time `json:"updated"`
}

// Open opens the secrets bucket and this node's key, creating the key
// (and recording its id) when neither exists yet. A missing or mismatched
// key is not an error here: the node runs, and KeyError says why secrets
// are unavailable.
func Open(ctx context.Context, st *store.Store, dataDir string) (*Store, error) {
	kv, err := st.KV(ctx, jetstream.KeyValueConfig{Bucket: Bucket, Description: "wisp: sealed service secrets", History: 1})
	if err != nil {
		return nil, err
	}
	s := &Store{kv: kv, now: time.Now}
	key, err := loadKey(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return nil, err
	}
	recorded, err := s.recordedKeyID(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case key == nil && recorded == "":
		if key, err = s.createKey(ctx, dataDir); err != nil {
			return nil, err
		}
	case key == nil:
		s.keyErr = fmt.Errorf("this node has no secrets key, and the cluster's secrets are sealed with key %s: copy %s from a node of the cluster into %s (mode 0600) and restart", recorded, KeyFile, dataDir)
		return s, nil
	case recorded == "":
		if _, err := kv.Create(ctx, keyIDEntry, []byte(keyID(key))); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("record the secrets key id: %w", err)
		}
		if recorded, err = s.recordedKeyID(ctx); err != nil {
			return nil, err
		}
		fallthrough
	default:
		if id := keyID(key); recorded != id {
			s.keyErr = fmt.Errorf("this node's secrets key (%s, id %s) is not the cluster's (id %s): copy %s from a node of the cluster and restart", filepath.Join(dataDir, KeyFile), id, recorded, KeyFile)
			return s, nil
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	s.keyID = keyID(key)
	return s, nil
}

// KeyError is nil when this node can seal and open secrets, and otherwise
// says why not and how to fix it.
func (s *Store) KeyError() error { return s.keyErr }

// keyID names a key without revealing it.
func keyID(key []byte) string {
	h := sha256.Sum256(append([]byte("wisp secrets key id\x00"), key...))
	return hex.EncodeToString(h[:8])
}

func (s *Store) recordedKeyID(ctx context.Context) (string, error) {
	e, err := s.kv.Get(ctx, keyIDEntry)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the secrets key id: %w", err)
	}
	return string(e.Value()), nil
}

// loadKey reads a key file: 64 hex digits. It refuses a file others can
// read.
func loadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secrets key %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secrets key %s is not 64 hex digits", path)
	}
	return key, nil
}

// createKey makes a new key, writes it (0600) and records its id. If
// another node recorded its key first, the new file is removed and the
// node runs without secrets.
func (s *Store) createKey(ctx context.Context, dataDir string) ([]byte, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	path := filepath.Join(dataDir, KeyFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write secrets key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write secrets key: %w", err)
	}
	// The file is on disk before the id is recorded, so a crash between
	// the two leaves a key that the next start records.
	if _, err := s.kv.Create(ctx, keyIDEntry, []byte(keyID(key))); err != nil {
		os.Remove(path)
		if errors.Is(err, jetstream.ErrKeyExists) {
			recorded, _ := s.recordedKeyID(ctx)
			s.keyErr = fmt.Errorf("another node created the cluster's secrets key (id %s) at the same time: copy its %s into %s and restart", recorded, KeyFile, dataDir)
			return nil, nil
		}
		return nil, fmt.Errorf("record the secrets key id: %w", err)
	}
	return key, nil
}

func entryKey(service, name string) string { return "svc." + service + "." + name }

func additionalData(service, name string) []byte {
	return []byte("wisp-secret/v1\x00" + service + "\x00" + name)
}

// Put seals and stores a secret and returns the bucket revision of the
// write.
func (s *Store) Put(ctx context.Context, service, name, value string) (uint64, error) {
	if !ValidName(name) {
		return 0, badInput("%q is not a valid secret name (letters, digits and '_', not starting with a digit, at most 64)", name)
	}
	if len(value) > MaxValueBytes {
		return 0, badInput("secret %s is %d bytes, over the limit of %d", name, len(value), MaxValueBytes)
	}
	if s.aead == nil {
		return 0, &Error{Status: 503, Msg: s.keyErr.Error()}
	}
	names, err := s.List(ctx, service)
	if err != nil {
		return 0, err
	}
	exists := false
	for _, i := range names {
		exists = exists || i.Name == name
	}
	if !exists && len(names) >= MaxPerService {
		return 0, badInput("service %s already has %d secrets, the most allowed", service, MaxPerService)
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	rec := sealed{V: 1, KeyID: s.keyID, Nonce: nonce, Sealed: s.aead.Seal(nil, nonce, []byte(value), additionalData(service, name)), Updated: s.now().UTC()}
	b, _ := json.Marshal(rec)
	rev, err := s.kv.Put(ctx, entryKey(service, name), b)
	if err != nil {
		return 0, fmt.Errorf("store secret %s: %w", name, err)
	}
	return rev, nil
}

// Delete removes a secret and returns the bucket revision of the delete.
func (s *Store) Delete(ctx context.Context, service, name string) (uint64, error) {
	if !ValidName(name) {
		return 0, badInput("%q is not a valid secret name", name)
	}
	e, err := s.kv.Get(ctx, entryKey(service, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("%w %s for service %s", ErrNotFound, name, service)
	}
	if err != nil {
		return 0, fmt.Errorf("delete secret %s: %w", name, err)
	}
	if err := s.kv.Delete(ctx, entryKey(service, name), jetstream.LastRevision(e.Revision())); err != nil {
		return 0, fmt.Errorf("delete secret %s: %w", name, err)
	}
	// The delete marker's revision: the next one after the entry's.
	e, err = s.kv.Get(ctx, entryKey(service, name))
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("delete secret %s: still present after delete (%v)", name, err)
	}
	st, err := s.kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete secret %s: %w", name, err)
	}
	return st.(*jetstream.KeyValueBucketStatus).StreamInfo().State.LastSeq, nil
}

// List names a service's secrets, sorted; it never opens them.
func (s *Store) List(ctx context.Context, service string) ([]Info, error) {
	entries, err := s.entries(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(entries))
	for name, rec := range entries {
		out = append(out, Info{Name: name, Updated: rec.Updated})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Store) entries(ctx context.Context, service string) (map[string]sealed, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, entryKey(service, "*"))
	if err != nil {
		return nil, fmt.Errorf("list secrets of %s: %w", service, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	out := map[string]sealed{}
	for _, k := range keys {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since listed
		}
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		var rec sealed
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return nil, fmt.Errorf("secret %s of %s is corrupt: %w", k, service, err)
		}
		out[strings.TrimPrefix(k, entryKey(service, ""))] = rec
	}
	return out, nil
}

// Values opens a service's secrets, for its env. A service without
// secrets needs no key.
func (s *Store) Values(ctx context.Context, service string) (map[string]string, error) {
	entries, err := s.entries(ctx, service)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	if s.aead == nil {
		return nil, fmt.Errorf("service %s has secrets, and %w", service, s.keyErr)
	}
	out := make(map[string]string, len(entries))
	for name, rec := range entries {
		if rec.KeyID != s.keyID {
			return nil, fmt.Errorf("secret %s of %s is sealed with key %s, not this node's (%s)", name, service, rec.KeyID, s.keyID)
		}
		v, err := s.aead.Open(nil, rec.Nonce, rec.Sealed, additionalData(service, name))
		if err != nil {
			return nil, fmt.Errorf("secret %s of %s does not open with this node's key: it was altered or moved", name, service)
		}
		out[name] = string(v)
	}
	return out, nil
}
