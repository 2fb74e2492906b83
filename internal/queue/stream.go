package queue

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the stream holding every queue and job.
const StreamName = "WISP_QUEUES"

// Subjects. A ready message of queue Q is on wisp.q.Q; one waiting for its
// delivery time is a JetStream message schedule on wisp.qd.Q.KEY that the
// server moves to wisp.q.Q when it is due. Jobs of service S use wisp.job.S
// and wisp.jobd.S.KEY the same way.
const (
	queuePrefix = "wisp.q."
	jobPrefix   = "wisp.job."
)

// Defaults for Config.
const (
	DefaultMaxAge      = 14 * 24 * time.Hour
	DefaultAckWait     = 10 * time.Second
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 5 * time.Minute
	// DedupeWindow is how long a message id (Nats-Msg-Id) is remembered:
	// a repeated send, redrive or cron tick within it is stored once.
	DedupeWindow = 10 * time.Minute
)

// Config tunes the queues of a node. Every node sharing a NATS should use
// the same values (the stream is shared).
type Config struct {
	Replicas int
	// MaxAge is how long an unconsumed message is kept.
	MaxAge time.Duration
	// AckWait is how long a delivered message may go without word from
	// the node handling it (which extends it every AckWait/3 while the
	// handler runs) before another node gets it: after a crash, messages
	// in flight are redelivered within AckWait.
	AckWait time.Duration
	// BackoffBase and BackoffMax shape the retry delay of a message whose
	// consumer has no retry_delay: BackoffBase × 2^(attempts−1), capped.
	BackoffBase, BackoffMax time.Duration
	Logger                  *slog.Logger
}

// Queues is the queue system of a node.
type Queues struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    Config
	log    *slog.Logger
	counts sync.Map // queue name → *counters: what this node's consumers did, by queue (counts.go)
}

// Open creates (or updates) the stream.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Queues, error) {
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "wisp queues and jobs",
		Subjects:    []string{queuePrefix + "*", "wisp.qd.*.*", jobPrefix + "*", "wisp.jobd.*.*"},
		// Work queue: a message is removed once acknowledged, and each
		// subject has one consumer at most.
		Retention:         jetstream.WorkQueuePolicy,
		Discard:           jetstream.DiscardOld,
		MaxAge:            cfg.MaxAge,
		Storage:           jetstream.FileStorage,
		Replicas:          max(cfg.Replicas, 1),
		Duplicates:        DedupeWindow,
		AllowMsgSchedules: true,
		AllowRollup:       true, // required by message schedules
		AllowDirect:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("open queue stream (needs NATS 2.12 or later for message schedules): %w", err)
	}
	return &Queues{js: js, stream: st, cfg: cfg, log: cfg.Logger}, nil
}

// QueueSubject is where queue's ready messages are.
func QueueSubject(queue string) string { return queuePrefix + queue }

// JobSubject is where service's jobs are.
func JobSubject(service string) string { return jobPrefix + service }

// AllJobs is the subject filter of every job.
const AllJobs = jobPrefix + "*"

// delayedSubject is where a message for ready subject subj waits until it
// is due: wisp.K.NAME becomes wisp.Kd.NAME.KEY.
func delayedSubject(subj, key string) string {
	rest := strings.TrimPrefix(subj, "wisp.")
	kind, name, _ := strings.Cut(rest, ".")
	return "wisp." + kind + "d." + name + "." + key
}

// queueOf is the queue a ready subject belongs to ("" for jobs).
func queueOf(subj string) string {
	q, ok := strings.CutPrefix(subj, queuePrefix)
	if !ok {
		return ""
	}
	return q
}

// ConsumerName is the durable consumer of queue, shared by every node.
func ConsumerName(queue string) string { return "q-" + queue }
