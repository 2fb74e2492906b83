package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/cron"
	"github.com/wisp-run/wisp/internal/logs"
	"github.com/wisp-run/wisp/internal/queue"
	"github.com/wisp-run/wisp/internal/runtime"
)

// Bucket is the KV bucket of invocation records.
const Bucket = "wisp-invocations"

// ConsumerName is the durable consumer of every job, shared by all nodes.
const ConsumerName = "jobs"

// Defaults for Config.
const (
	DefaultRetention   = 7 * 24 * time.Hour
	DefaultConcurrency = 256
	callbackTimeout    = 10 * time.Second
)

// Services runs work on services; the node implements it.
type Services interface {
	// Fetch runs an HTTP invocation of the service's active version,
	// under its limits, writing the response to w.
	Fetch(ctx context.Context, service string, req *runtime.Request, w http.ResponseWriter) error
	// Scheduled runs the service's scheduled handler for one tick.
	Scheduled(ctx context.Context, service string, ev *runtime.ScheduledEvent) error
}

// ErrNoService is returned by Services when the service does not exist:
// its jobs fail at once, without retries.
var ErrNoService = errors.New("service does not exist")

// Config is what Jobs needs.
type Config struct {
	Queues    *queue.Queues
	JS        jetstream.JetStream
	Replicas  int
	Services  Services
	Callbacks *Allowlist
	// MaxRetries is how many times a failed job is retried (the queues'
	// default, 3).
	MaxRetries int
	// Concurrency bounds the jobs run at once on each node, and across
	// all nodes.
	Concurrency int
	Retention   time.Duration // how long invocation records are kept
	Logs        logs.Sink     // services' log entries
	Log         *slog.Logger
	HTTP        *http.Client // for callbacks
}

// Jobs accepts asynchronous invocations and runs every job.
type Jobs struct {
	cfg    Config
	kv     jetstream.KeyValue
	runner *queue.Runner
	log    *slog.Logger
}

// Open creates the record bucket.
func Open(ctx context.Context, cfg Config) (*Jobs, error) {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = queue.DefaultMaxRetries
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Logs == nil {
		cfg.Logs = logs.Discard
	}
	if cfg.Callbacks == nil {
		cfg.Callbacks = &Allowlist{}
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{
			Timeout: callbackTimeout,
			// A callback goes where it was allowed to, not where a
			// redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	kv, err := cfg.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "wisp asynchronous invocations",
		TTL:         cfg.Retention,
		Storage:     jetstream.FileStorage,
		Replicas:    max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("open KV bucket %s: %w", Bucket, err)
	}
	return &Jobs{cfg: cfg, kv: kv, log: cfg.Log}, nil
}

// Start runs jobs on this node until Stop.
func (j *Jobs) Start(ctx context.Context) error {
	r, err := j.cfg.Queues.Start(ctx, queue.Consumer{
		Name:    ConsumerName,
		Subject: queue.AllJobs,
		Policy:  queue.Policy{MaxBatchSize: 1, MaxRetries: j.cfg.MaxRetries, MaxConcurrency: j.cfg.Concurrency},
		Handler: j.handle,
		Log:     j.log.With("consumer", ConsumerName),
	})
	if err != nil {
		return err
	}
	j.runner = r
	return nil
}

// Stop stops taking jobs and waits for those running until ctx ends.
func (j *Jobs) Stop(ctx context.Context) {
	if j.runner != nil {
		j.runner.Stop(ctx)
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// publish stores a job; key, when set, deduplicates it.
func (j *Jobs) publish(ctx context.Context, jb *Job, key string) error {
	data, err := json.Marshal(jb)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	m := nats.NewMsg(queue.JobSubject(jb.Service))
	m.Data = data
	m.Header.Set("Wisp-Id", newID())
	m.Header.Set("Wisp-Sent", fmt.Sprint(time.Now().UnixMilli()))
	var opts []jetstream.PublishOpt
	if key != "" {
		opts = append(opts, jetstream.WithMsgID(key))
	}
	if _, err := j.cfg.JS.PublishMsg(ctx, m, opts...); err != nil {
		return fmt.Errorf("queue %s job for %s: %w", jb.Kind, jb.Service, err)
	}
	return nil
}

// FireCron hands a cron tick on as a job (a cron.FireFunc): the same tick
// handed on twice within the queue's deduplication window is stored once.
func (j *Jobs) FireCron(ctx context.Context, t cron.Tick) error {
	return j.publish(ctx, &Job{Kind: KindCron, Service: t.Service, Cron: t.Cron, ScheduledTime: t.Time}, t.Key())
}

// Accept queues an asynchronous invocation of service and returns its
// record. callback, when not empty, must be on the allowlist.
func (j *Jobs) Accept(ctx context.Context, service string, req *runtime.Request, callback string) (*Invocation, error) {
	if len(req.Body) > MaxRequestBytes {
		return nil, fmt.Errorf("%w: %d bytes; at most %d bytes (256 KiB) may be queued", ErrTooLarge, len(req.Body), MaxRequestBytes)
	}
	if callback != "" {
		if err := j.cfg.Callbacks.Check(callback); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	inv := &Invocation{ID: newID(), Service: service, Status: StatusQueued, Method: req.Method, Path: pathOf(req.URL), Created: now, Updated: now}
	if callback != "" {
		inv.Callback = &Callback{URL: callback, Status: CallbackPending}
	}
	if err := j.put(ctx, inv); err != nil {
		return nil, err
	}
	jb := &Job{Kind: KindInvoke, Service: service, Invocation: inv.ID, Request: &Request{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body}}
	if err := j.publish(ctx, jb, inv.ID); err != nil {
		_ = j.kv.Delete(context.WithoutCancel(ctx), inv.ID)
		return nil, err
	}
	return inv, nil
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

// Get reads an invocation's record.
func (j *Jobs) Get(ctx context.Context, id string) (*Invocation, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: %q is not an invocation id (32 hexadecimal digits)", ErrNotFound, id)
	}
	e, err := j.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s (records are kept %v)", ErrNotFound, id, j.cfg.Retention)
	}
	if err != nil {
		return nil, fmt.Errorf("read invocation %s: %w", id, err)
	}
	var inv Invocation
	if err := json.Unmarshal(e.Value(), &inv); err != nil {
		return nil, fmt.Errorf("decode invocation %s: %w", id, err)
	}
	return &inv, nil
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (j *Jobs) put(ctx context.Context, inv *Invocation) error {
	inv.Updated = time.Now().UTC()
	b, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("encode invocation %s: %w", inv.ID, err)
	}
	if _, err := j.kv.Put(ctx, inv.ID, b); err != nil {
		return fmt.Errorf("store invocation %s: %w", inv.ID, err)
	}
	return nil
}
