package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of a consumer's policy (Cloudflare Queues' defaults).
const (
	DefaultMaxBatchSize    = 10
	DefaultMaxBatchTimeout = 5 * time.Second
	DefaultMaxRetries      = 3
)

// idlePull is how long one pull for the first message of a batch waits
// before it is renewed.
const idlePull = 30 * time.Second

// Policy is how a consumer takes and settles messages.
type Policy struct {
	MaxBatchSize    int           // messages per batch at most; 0 means 10
	MaxBatchTimeout time.Duration // how long a batch waits to fill after its first message; 0 means 5s
	MaxRetries      int           // retries after the first attempt before a message is dead-lettered
	RetryDelay      time.Duration // fixed delay before a retry; 0 means exponential backoff
	DeadLetter      string        // queue that gets messages out of retries; "" drops them
	// MaxConcurrency bounds the batches handled at once on each node, and
	// MaxConcurrency × MaxBatchSize the messages in flight across all
	// nodes. 0 means 1.
	MaxConcurrency int
}

func (p Policy) withDefaults() Policy {
	if p.MaxBatchSize <= 0 {
		p.MaxBatchSize = DefaultMaxBatchSize
	}
	if p.MaxBatchTimeout <= 0 {
		p.MaxBatchTimeout = DefaultMaxBatchTimeout
	}
	if p.MaxConcurrency <= 0 {
		p.MaxConcurrency = 1
	}
	return p
}

// Verdict is what a handler decided for one message.
type Verdict uint8

// Verdicts. A message left Undecided is acknowledged when the handler
// returns without error and retried when it fails (Workers semantics).
const (
	Undecided Verdict = iota
	Ack
	Retry
)

// Decision is a handler's verdict on one message. A retry without
// DelaySet waits the policy's delay.
type Decision struct {
	Verdict  Verdict
	Delay    time.Duration
	DelaySet bool
}

// Handler handles a batch. decisions, when not nil, has one entry per
// message. A non-nil error means the handler failed: every undecided
// message is retried and the error is their last error.
type Handler func(ctx context.Context, b *Batch) (decisions []Decision, err error)

// DropFunc is told about a message dropped after its last retry on a
// consumer without a dead-letter queue.
type DropFunc func(m *Message, lastErr string)

// Consumer describes one consumer to run on this node.
type Consumer struct {
	Name    string // durable name, shared by every node
	Queue   string // the queue consumed ("" for jobs)
	Subject string // subject filter: QueueSubject(Queue) or AllJobs
	Policy  Policy
	Handler Handler
	OnDrop  DropFunc
	Log     *slog.Logger
}

// Runner runs one consumer on this node until stopped.
type Runner struct {
	q      *Queues
	c      Consumer
	cons   jetstream.Consumer
	sem    chan struct{}
	counts *counters          // what it did, for the metrics (counts.go)
	cancel context.CancelFunc // stops fetching
	base   context.Context    // handlers' context, ended by Stop's deadline
	abort  context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
}

// EnsureConsumer creates or updates the durable consumer for c.
func (q *Queues) EnsureConsumer(ctx context.Context, c Consumer) (jetstream.Consumer, error) {
	p := c.Policy.withDefaults()
	cons, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       c.Name,
		Description:   "wisp consumer of " + c.Subject,
		FilterSubject: c.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    -1, // retries and dead letters are ours
		MaxAckPending: p.MaxConcurrency * p.MaxBatchSize,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      0, // the stream's
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", c.Name, err)
	}
	return cons, nil
}

// DeleteConsumer removes a durable consumer; its unacknowledged messages
// stay queued.
func (q *Queues) DeleteConsumer(ctx context.Context, name string) error {
	err := q.stream.DeleteConsumer(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", name, err)
	}
	return nil
}

// Start creates the consumer if needed and starts handling its messages
// on this node.
func (q *Queues) Start(ctx context.Context, c Consumer) (*Runner, error) {
	c.Policy = c.Policy.withDefaults()
	if c.Log == nil {
		c.Log = q.log
	}
	c.Log = c.Log.With("consumer", c.Name)
	cons, err := q.EnsureConsumer(ctx, c)
	if err != nil {
		return nil, err
	}
	fetchCtx, cancel := context.WithCancel(context.Background())
	base, abort := context.WithCancel(context.Background())
	r := &Runner{q: q, c: c, cons: cons, counts: q.countsFor(c.Queue), sem: make(chan struct{}, c.Policy.MaxConcurrency), cancel: cancel, base: base, abort: abort, done: make(chan struct{})}
	go r.loop(fetchCtx)
	return r, nil
}

// Stop stops taking messages and waits for the batches being handled,
// until ctx ends: then their handlers' contexts are canceled. Messages of
// a batch cut short are redelivered (to any node) after the ack wait.
func (r *Runner) Stop(ctx context.Context) {
	r.Halt()
	finished := make(chan struct{})
	go func() { r.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		r.abort()
		<-finished
	}
	r.abort()
}

// Halt stops taking messages and returns once no fetch is under way;
// batches being handled go on (Stop waits for them).
func (r *Runner) Halt() {
	r.cancel()
	<-r.done
}

func (r *Runner) loop(ctx context.Context) {
	defer close(r.done)
	failures := 0
	for {
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		msgs, k, err := r.fetch(ctx)
		if err != nil && ctx.Err() == nil {
			failures++
			if r.heal(ctx, err) {
				failures = 0
			} else {
				r.c.Log.Warn("fetch from queue", "error", err, "failures", failures)
			}
		} else {
			failures = 0
		}
		if len(msgs) == 0 {
			<-r.sem
			if failures > 0 {
				select { // back off from a broken consumer, up to 5s
				case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)):
				case <-ctx.Done():
					return
				}
			}
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-r.sem }()
			defer k.stop()
			r.handle(msgs)
		}()
	}
}

// heal creates the durable consumer again when it is gone: another node
// deleted it (it applied the removal of a service before this one did,
// and a new consumer of the queue may already rely on it). It reports
// whether it did.
func (r *Runner) heal(ctx context.Context, err error) bool {
	if !errors.Is(err, jetstream.ErrConsumerDeleted) && !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	if _, err := r.q.stream.Consumer(ctx, r.c.Name); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	cons, err := r.q.EnsureConsumer(ctx, r.c)
	if err != nil {
		r.c.Log.Warn("recreate deleted consumer", "error", err)
		return false
	}
	r.cons = cons
	r.c.Log.Info("consumer was deleted; created it again")
	return true
}

// fetch takes one batch: it waits for a first message, then up to
// MaxBatchTimeout for the batch to fill.
func (r *Runner) fetch(ctx context.Context) ([]*Message, *keeper, error) {
	fctx, cancel := context.WithTimeout(ctx, idlePull)
	defer cancel()
	b, err := r.cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		return nil, nil, err
	}
	var msgs []*Message
	for m := range b.Messages() {
		msgs = append(msgs, decode(m))
	}
	if len(msgs) == 0 {
		if err := b.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && !errors.Is(err, nats.ErrTimeout) {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	k := r.keep(msgs)
	want := r.c.Policy.MaxBatchSize - len(msgs)
	if want > 0 {
		// FetchContext keeps a little of the context's time for itself
		// (a tenth, at most a second); a longer context gives the pull the
		// whole window, and stopping the runner ends it at once (with what
		// it has).
		wctx, wcancel := context.WithTimeout(ctx, pullContext(r.c.Policy.MaxBatchTimeout))
		defer wcancel()
		b, err := r.cons.Fetch(want, jetstream.FetchContext(wctx))
		if err == nil {
			for m := range b.Messages() {
				d := decode(m)
				msgs = append(msgs, d)
				k.add(d)
			}
		}
	}
	return msgs, k, nil
}

// pullContext is the context length for which FetchContext pulls for
// about d: it keeps min(a tenth, 1s) of it for itself.
func pullContext(d time.Duration) time.Duration {
	if d*10/9/10 <= time.Second {
		return d * 10 / 9
	}
	return d + time.Second
}

// keeper tells JetStream that messages are still being worked on, so that
// a long batch is not redelivered elsewhere while it runs.
type keeper struct {
	mu   sync.Mutex
	msgs []*Message
	stop func()
}

func (r *Runner) keep(msgs []*Message) *keeper {
	k := &keeper{msgs: append([]*Message(nil), msgs...)}
	done := make(chan struct{})
	var once sync.Once
	k.stop = func() { once.Do(func() { close(done) }) }
	go func() {
		t := time.NewTicker(r.q.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				k.mu.Lock()
				for _, m := range k.msgs {
					_ = m.raw.InProgress()
				}
				k.mu.Unlock()
			}
		}
	}()
	return k
}

func (k *keeper) add(m *Message) {
	k.mu.Lock()
	k.msgs = append(k.msgs, m)
	k.mu.Unlock()
}

func (r *Runner) handle(msgs []*Message) {
	b := &Batch{Queue: r.c.Queue, Messages: msgs}
	decisions, herr := r.call(b)
	for i, m := range msgs {
		var d Decision
		if i < len(decisions) {
			d = decisions[i]
		}
		r.settle(m, d, herr)
	}
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(b *Batch) (decisions []Decision, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("consumer handler panicked: %v", p)
			r.c.Log.Error("consumer handler panicked", "panic", p)
		}
	}()
	return r.c.Handler(r.base, b)
}

func (r *Runner) settle(m *Message, d Decision, herr error) {
	if d.Verdict == Ack || (d.Verdict == Undecided && herr == nil) {
		r.counts.acked.Add(1)
		if err := m.raw.Ack(); err != nil {
			r.c.Log.Warn("acknowledge message", "id", m.ID, "error", err)
		}
		return
	}
	// The last error: the handler's when it failed (runtimes report the
	// messages a failure retries as retried), else the explicit retry.
	reason := "retried by the handler (message.retry())"
	if herr != nil {
		reason = herr.Error()
	}
	if m.Attempts > r.c.Policy.MaxRetries {
		r.deadLetter(m, reason)
		return
	}
	delay := r.backoff(m.Attempts)
	if d.DelaySet {
		delay = d.Delay
	}
	r.retry(m, delay)
}

// backoff is the delay before retrying a message after its attempts.
func (r *Runner) backoff(attempts int) time.Duration {
	if r.c.Policy.RetryDelay > 0 {
		return r.c.Policy.RetryDelay
	}
	d := r.q.cfg.BackoffBase
	for i := 1; i < attempts && d < r.q.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, r.q.cfg.BackoffMax)
}

// retry makes m come back after delay. A delayed retry is a new message
// (a schedule carrying the attempts so far) and the original is
// acknowledged, so that waiting retries do not hold the consumer's
// in-flight budget; if that fails, JetStream redelivers it instead.
func (r *Runner) retry(m *Message, delay time.Duration) {
	r.counts.retried.Add(1)
	if delay <= 0 {
		if err := m.raw.Nak(); err != nil {
			r.c.Log.Warn("return message for retry", "id", m.ID, "error", err)
		}
		return
	}
	nm := nats.NewMsg(m.subject)
	nm.Header = copyHeaders(m.raw.Headers())
	nm.Header.Set(hdrAttempts, strconv.Itoa(m.Attempts))
	nm.Data = m.Body
	// The key is this stored copy's: publishing again after a crash (the
	// copy is redelivered) stores one retry, while a later copy of the
	// same message (redriven, say) gets its own.
	key := m.ID + "-" + strconv.FormatUint(m.seq, 10)
	opts := append([]jetstream.PublishOpt{jetstream.WithMsgID(key)}, scheduleAt(nm, time.Now(), delay, key)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.q.js.PublishMsg(ctx, nm, opts...); err != nil {
		r.c.Log.Warn("schedule retry; leaving it to redelivery", "id", m.ID, "error", err)
		_ = m.raw.NakWithDelay(delay)
		return
	}
	if err := m.raw.Ack(); err != nil {
		r.c.Log.Warn("acknowledge retried message", "id", m.ID, "error", err)
	}
}

// deadLetter moves m to the dead-letter queue (with its last error and
// attempts), or drops it when the consumer has none.
func (r *Runner) deadLetter(m *Message, reason string) {
	dlq := r.c.Policy.DeadLetter
	if dlq == "" {
		r.counts.dropped.Add(1)
		if r.c.OnDrop != nil {
			r.c.OnDrop(m, reason)
		}
		r.c.Log.Warn("message dropped after its last retry", "id", m.ID, "attempts", m.Attempts, "error", reason)
		if err := m.raw.Ack(); err != nil {
			r.c.Log.Warn("acknowledge dropped message", "id", m.ID, "error", err)
		}
		return
	}
	nm := nats.NewMsg(QueueSubject(dlq))
	nm.Header = copyHeaders(m.raw.Headers())
	nm.Header.Del(hdrAttempts) // a fresh start on the dead-letter queue
	nm.Header.Set(hdrDeadQueue, queueOf(m.subject))
	nm.Header.Set(hdrDeadError, headerText(reason, 1024))
	nm.Header.Set(hdrDeadAttempts, strconv.Itoa(m.Attempts))
	nm.Data = m.Body
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.q.js.PublishMsg(ctx, nm, jetstream.WithMsgID(m.ID+"-dlq-"+strconv.FormatUint(m.seq, 10))); err != nil {
		r.c.Log.Warn("dead-letter message; will retry", "id", m.ID, "dead_letter_queue", dlq, "error", err)
		_ = m.raw.NakWithDelay(time.Second)
		return
	}
	r.counts.deadLettered.Add(1)
	if err := m.raw.Ack(); err != nil {
		r.c.Log.Warn("acknowledge dead-lettered message", "id", m.ID, "error", err)
	}
}
