package node

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/api"
	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/cron"
	"github.com/wisp-run/wisp/internal/dispatch"
	"github.com/wisp-run/wisp/internal/job"
	"github.com/wisp-run/wisp/internal/manifest"
	"github.com/wisp-run/wisp/internal/queue"
)

// TriggersConfig tunes queues, jobs and cron on a node. The zero value is
// the production setting; tests shorten waits and drive the clock.
type TriggersConfig struct {
	// Clock drives cron schedules; the system clock when nil.
	Clock cron.Clock
	// CallbackHosts lists where asynchronous invocations may post their
	// outcome (see job.ParseAllowlist). None by default.
	CallbackHosts []string
	// Queues tunes ack wait and retry backoff (Replicas and Logger are
	// the node's).
	Queues queue.Config
}

// TriggersBucket is the KV bucket of trigger bookkeeping (cron records).
const TriggersBucket = "wisp-triggers"

// triggers is the node's event machinery: queues, jobs, cron.
type triggers struct {
	queues *queue.Queues
	jobs   *job.Jobs
	sched  *cron.Scheduler
	clock  cron.Clock
	stop   context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	runners map[string]*consumerRun // by queue
	stopped bool
}

// consumerRun is one queue consumer running on this node.
type consumerRun struct {
	service string
	policy  queue.Policy
	runner  *queue.Runner
}

// startTriggers opens the queue stream, the job consumer and the cron
// scheduler. Consumers and schedules of services start as they are
// applied (triggersChanged).
func (n *Node) startTriggers(ctx context.Context) error {
	cfg := n.cfg.Triggers
	allow, err := job.ParseAllowlist(cfg.CallbackHosts)
	if err != nil {
		return err
	}
	qc := cfg.Queues
	qc.Replicas, qc.Logger = n.store.Replicas(), n.log
	q, err := queue.Open(ctx, n.store.JS, qc)
	if err != nil {
		return err
	}
	jobs, err := job.Open(ctx, job.Config{
		Queues: q, JS: n.store.JS, Replicas: n.store.Replicas(), Services: jobServices{n},
		Callbacks: allow, MaxRetries: queue.DefaultMaxRetries, Logs: n.sink, Log: n.log.With("part", "jobs"),
	})
	if err != nil {
		return err
	}
	kv, err := n.store.KV(ctx, jetstream.KeyValueConfig{Bucket: TriggersBucket, Description: "wisp trigger bookkeeping (cron records)"})
	if err != nil {
		return err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = cron.SystemClock{}
	}
	t := &triggers{queues: q, jobs: jobs, clock: clock, runners: map[string]*consumerRun{}, done: make(chan struct{})}
	t.sched = cron.New(cron.Config{KV: kv, Clock: clock, Fire: jobs.FireCron, Log: n.log.With("part", "cron")})
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	go func() { defer close(t.done); t.sched.Run(runCtx) }()
	n.trig = t
	n.gw.Async = n.acceptAsync
	return nil
}

// stopTriggers stops schedules, consumers and jobs, letting batches and
// jobs in progress finish until ctx ends.
func (n *Node) stopTriggers(ctx context.Context) {
	t := n.trig
	if t == nil {
		return
	}
	t.mu.Lock()
	stopped := t.stopped
	t.stopped = true
	t.mu.Unlock()
	if stopped {
		return
	}
	t.stop()
	<-t.done
	t.mu.Lock()
	runs := t.runners
	t.runners = map[string]*consumerRun{}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() { r.runner.Stop(ctx) })
	}
	wg.Go(func() { t.jobs.Stop(ctx) })
	wg.Wait()
}

// triggersChanged brings a service's consumers and schedules in line
// with its newly active version (nil: the service is gone).
func (n *Node) triggersChanged(name string, next *dispatch.Service) {
	t := n.trig
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	var m *manifest.Manifest
	if next != nil {
		m = next.Manifest
	}
	var crons []string
	if m != nil {
		crons = m.Triggers.Crons
	}
	t.sched.Set(ctx, name, crons)
	n.syncConsumers(ctx, name, m)
}

// policyOf is a [[queues.consumers]] entry as a queue policy.
func policyOf(c manifest.QueueConsumer, limits manifest.Limits) queue.Policy {
	p := queue.Policy{
		MaxBatchSize:    c.MaxBatchSize,
		MaxBatchTimeout: time.Duration(c.MaxBatchTimeout) * time.Second,
		MaxRetries:      queue.DefaultMaxRetries,
		RetryDelay:      time.Duration(c.RetryDelay) * time.Second,
		DeadLetter:      c.DeadLetterQueue,
		MaxConcurrency:  c.MaxConcurrency,
	}
	if c.MaxRetries != nil {
		p.MaxRetries = *c.MaxRetries
	}
	if p.MaxConcurrency == 0 {
		p.MaxConcurrency = limits.MaxInstances
	}
	return p
}

// syncConsumers starts, restarts (when their settings changed) and stops
// the queue consumers of service name on this node. A consumer the
// service no longer has is deleted from JetStream; its messages stay
// queued for whoever consumes the queue next.
func (n *Node) syncConsumers(ctx context.Context, name string, m *manifest.Manifest) {
	t := n.trig
	want := map[string]queue.Policy{}
	if m != nil {
		for _, c := range m.Queues.Consumers {
			want[c.Queue] = policyOf(c, m.Limits)
		}
	}
	t.mu.Lock()
	var stopping []*consumerRun
	var gone []string
	for q, run := range t.runners {
		if run.service != name {
			continue
		}
		if p, ok := want[q]; ok && p == run.policy {
			delete(want, q)
			continue
		}
		stopping = append(stopping, run)
		delete(t.runners, q)
		if _, still := want[q]; !still {
			gone = append(gone, q)
		}
	}
	t.mu.Unlock()
	for _, run := range stopping {
		run.runner.Halt() // before the consumer is deleted, which it would recreate
		go func() {       // its batches in progress finish on their own time
			sctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownGrace)
			defer cancel()
			run.runner.Stop(sctx)
		}()
	}
	for _, q := range gone {
		if err := t.queues.DeleteConsumer(ctx, queue.ConsumerName(q)); err != nil {
			n.log.Warn("delete queue consumer", "service", name, "queue", q, "error", err)
		}
	}
	for _, q := range sortedKeys(want) {
		n.startConsumer(ctx, name, q, want[q])
	}
}

func (n *Node) startConsumer(ctx context.Context, service, q string, p queue.Policy) {
	t := n.trig
	t.mu.Lock()
	other, stopped := t.runners[q], t.stopped
	t.mu.Unlock()
	if stopped {
		return
	}
	if other != nil {
		n.log.Error("queue consumed by two services; keeping the first", "queue", q, "kept", other.service, "refused", service)
		return
	}
	log := n.log.With("service", service, "queue", q)
	r, err := t.queues.Start(ctx, queue.Consumer{
		Name: queue.ConsumerName(q), Queue: q, Subject: queue.QueueSubject(q), Policy: p,
		Handler: n.queueHandler(service), OnDrop: n.dropped(service, q), Log: log,
	})
	if err != nil {
		log.Error("start queue consumer", "error", err)
		return
	}
	t.mu.Lock()
	if t.stopped { // stopTriggers ran meanwhile
		t.mu.Unlock()
		r.Stop(ctx)
		return
	}
	t.runners[q] = &consumerRun{service: service, policy: p, runner: r}
	t.mu.Unlock()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// addQueueBindings gives a version its [[queues.producers]].
func (n *Node) addQueueBindings(env *binding.Env, m *manifest.Manifest) {
	if n.trig == nil || len(m.Queues.Producers) == 0 {
		return
	}
	env.Queues = map[string]binding.Producer{}
	for _, p := range m.Queues.Producers {
		env.Queues[p.Binding] = n.trig.queues.Producer(p.Queue, p.DeliveryDelay)
	}
}

// checkTriggers refuses a version that would consume a queue another
// service already consumes (each queue has one consumer, as on Workers).
func (n *Node) checkTriggers(service string, m *manifest.Manifest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range m.Queues.Consumers {
		for _, other := range n.services {
			if other.Name == service {
				continue
			}
			for _, oc := range other.Manifest.Queues.Consumers {
				if oc.Queue == c.Queue {
					return api.Conflict(api.CodeQueueConflict, fmt.Sprintf("queue %s is already consumed by service %s; a queue has one consumer", c.Queue, other.Name))
				}
			}
		}
	}
	return nil
}

// nextRun is when a manifest's crons fire next, if it has any.
func (n *Node) nextRun(m *manifest.Manifest) *time.Time {
	if len(m.Triggers.Crons) == 0 {
		return nil
	}
	now := time.Now()
	if n.trig != nil {
		now = n.trig.clock.Now()
	}
	t, ok := cron.NextRun(m.Triggers.Crons, now)
	if !ok {
		return nil
	}
	return &t
}

var _ api.QueueControl = (*Node)(nil)
var _ api.InvocationControl = (*Node)(nil)

var errNoTriggers = errors.New("queues are not running on this node")

// Queues lists every queue that holds messages or that a service
// produces to or consumes.
func (n *Node) Queues(ctx context.Context) ([]api.QueueInfo, error) {
	if n.trig == nil {
		return nil, errNoTriggers
	}
	stats, err := n.trig.queues.Stats(ctx)
	if err != nil {
		return nil, err
	}
	infos := map[string]*api.QueueInfo{}
	get := func(q string) *api.QueueInfo {
		if infos[q] == nil {
			infos[q] = &api.QueueInfo{Name: q, Producers: []string{}}
		}
		return infos[q]
	}
	for name, svc := range n.snap.Load().Services {
		for _, p := range svc.Manifest.Queues.Producers {
			info := get(p.Queue)
			info.Producers = append(info.Producers, name)
		}
		for _, c := range svc.Manifest.Queues.Consumers {
			info := get(c.Queue)
			info.Consumer, info.DeadLetterQueue = name, c.DeadLetterQueue
			if c.DeadLetterQueue != "" {
				get(c.DeadLetterQueue)
			}
		}
	}
	for q, s := range stats {
		info := get(q)
		info.Messages, info.InFlight, info.Delayed = s.Messages, s.InFlight, s.Delayed
	}
	out := make([]api.QueueInfo, 0, len(infos))
	for _, q := range sortedKeys(infos) {
		info := infos[q]
		sort.Strings(info.Producers)
		info.Producers = dedupe(info.Producers)
		out = append(out, *info)
	}
	return out, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// PeekQueue reads a queue's ready messages without consuming them.
func (n *Node) PeekQueue(ctx context.Context, name string, limit int) ([]queue.Peeked, error) {
	if n.trig == nil {
		return nil, errNoTriggers
	}
	return n.trig.queues.Peek(ctx, name, limit)
}

// SendQueue sends messages to a queue from the admin API.
func (n *Node) SendQueue(ctx context.Context, name string, msgs []binding.Message) ([]queue.Sent, error) {
	if n.trig == nil {
		return nil, errNoTriggers
	}
	return n.trig.queues.Send(ctx, name, msgs, 0)
}

// RedriveQueue moves messages from one queue (a dead-letter queue) to
// another.
func (n *Node) RedriveQueue(ctx context.Context, from, to string, limit int) (int, error) {
	if n.trig == nil {
		return 0, errNoTriggers
	}
	return n.trig.queues.Redrive(ctx, from, to, limit)
}

// Invocation reads an asynchronous invocation's outcome.
func (n *Node) Invocation(ctx context.Context, id string) (*job.Invocation, error) {
	if n.trig == nil {
		return nil, errNoTriggers
	}
	return n.trig.jobs.Get(ctx, id)
}
