package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names. A few shared buckets with key prefixes keep thousands of
// services cheap (one JetStream stream per bucket).
const (
	RegistryBucket  = "wisp-registry"
	ArtifactsBucket = "wisp-artifacts"
)

// Config says where the state lives.
type Config struct {
	// DataDir holds the embedded server's JetStream files (DataDir/jetstream).
	DataDir string
	// NATSURL, when set, connects to an external NATS server or cluster
	// instead of starting an embedded one.
	NATSURL string
	// Replicas is the JetStream replication factor for wisp's buckets
	// (1 for one node; 3 for a cluster).
	Replicas int
	Logger   *slog.Logger
}

// Store is an open connection to JetStream.
type Store struct {
	srv      *server.Server // nil when connected to an external server
	url      string         // the external server's URL, for Connect
	NC       *nats.Conn
	JS       jetstream.JetStream
	replicas int
	log      *slog.Logger
}

// Open starts the embedded server (or connects to cfg.NATSURL) and returns
// a Store ready for use.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{replicas: max(cfg.Replicas, 1), log: cfg.Logger, url: cfg.NATSURL}
	var err error
	if cfg.NATSURL != "" {
		s.NC, err = nats.Connect(cfg.NATSURL, nats.Name("wisp"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
		if err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATSURL, err)
		}
	} else {
		if s.srv, err = startEmbedded(cfg.DataDir); err != nil {
			return nil, err
		}
		s.NC, err = nats.Connect("", nats.InProcessServer(s.srv), nats.Name("wisp"))
		if err != nil {
			s.srv.Shutdown()
			return nil, fmt.Errorf("connect to embedded NATS: %w", err)
		}
	}
	s.JS, err = jetstream.New(s.NC)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	if _, err := s.JS.AccountInfo(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("JetStream is not available on this NATS server (is it started with -js?): %w", err)
	}
	return s, nil
}

func startEmbedded(dataDir string) (*server.Server, error) {
	if dataDir == "" {
		return nil, errors.New("a data directory is required for the embedded NATS server")
	}
	dir := filepath.Join(dataDir, "jetstream")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	opts := &server.Options{
		ServerName: "wisp",
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
		// Large artifacts (wasm modules) are chunked by the object store;
		// 8 MiB keeps KV values such as version records comfortably inside.
		MaxPayload: 8 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded NATS did not become ready within 30s")
	}
	return srv, nil
}

// Embedded reports whether the store runs its own NATS server.
func (s *Store) Embedded() bool { return s.srv != nil }

// Replicas is the replication factor used for buckets.
func (s *Store) Replicas() int { return s.replicas }

// KV opens the named key-value bucket, creating it when missing.
func (s *Store) KV(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = s.replicas
	}
	kv, err := s.JS.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open KV bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Objects opens the named object store, creating it when missing.
func (s *Store) Objects(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = s.replicas
	}
	obj, err := s.JS.CreateOrUpdateObjectStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", cfg.Bucket, err)
	}
	return obj, nil
}

// Close drains the connection and stops the embedded server, if any.
func (s *Store) Close() {
	if s.NC != nil {
		_ = s.NC.Drain()
		s.NC.Close()
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}
