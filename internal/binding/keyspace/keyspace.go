package keyspace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// Stream is one JetStream stream of records, laid out as a NATS KV bucket
// (stream KV_<bucket>, subjects $KV.<bucket>.>, one message per subject)
// so that `nats kv` tools can inspect it, with per-message TTLs allowed.
type Stream struct {
	js     jetstream.JetStream
	st     jetstream.Stream
	name   string // stream name
	prefix string // "$KV.<bucket>."
}

// Open opens (creating when missing) the record stream for bucket.
func Open(ctx context.Context, s *store.Store, bucket string) (*Stream, error) {
	cfg := jetstream.StreamConfig{
		Name:              "KV_" + bucket,
		Description:       "wisp records: " + bucket,
		Subjects:          []string{"$KV." + bucket + ".>"},
		MaxMsgsPerSubject: 1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgSize:        -1,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          s.Replicas(),
		Discard:           jetstream.DiscardNew,
		AllowRollup:       true,
		DenyDelete:        true,
		AllowDirect:       true,
		AllowMsgTTL:       true,
		Duplicates:        2 * time.Minute,
	}
	st, err := s.JS.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open record stream %s: %w", cfg.Name, err)
	}
	return &Stream{js: s.JS, st: st, name: cfg.Name, prefix: "$KV." + bucket + "."}, nil
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Space is one independent set of keys in a stream.
type Space struct {
	s      *Stream
	prefix string // subject prefix of every key, ending in '.'
}

// Space returns the space named by tokens (for example "p", "cart",
// "CARTS"). Spaces whose token lists differ never share a key, provided
// no token list is a prefix of another's: callers give every kind of
// space its own first token and a fixed token count.
func (s *Stream) Space(tokens ...string) (*Space, error) {
	if len(tokens) == 0 {
		return nil, errors.New("a space needs at least one token")
	}
	for _, t := range tokens {
		if !ValidToken(t) {
			return nil, fmt.Errorf("%q cannot name a record space (letters, digits, '-', '_', '=', '/')", t)
		}
	}
	return &Space{s: s, prefix: s.prefix + strings.Join(tokens, ".") + "."}, nil
}

func (sp *Space) subject(key string) string {
	var b strings.Builder
	b.Grow(len(sp.prefix) + 3*len(key) + 1)
	b.WriteString(sp.prefix)
	encodeKey(&b, key)
	return b.String()
}

// Subject is the stream subject holding key's record.
func (sp *Space) Subject(key string) string { return sp.subject(key) }

// Stream is the stream the space lives in.
func (sp *Space) Stream() *Stream { return sp.s }

// Record is one stored record.
type Record struct {
	Key    string
	Header nats.Header // the headers written with it (and JetStream's own)
	Body   []byte
	Seq    uint64 // stream sequence: the record's revision
	Time   time.Time
}

// Get returns key's record, or nil when there is none.
func (sp *Space) Get(ctx context.Context, key string) (*Record, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	m, err := sp.s.st.GetLastMsgForSubject(ctx, sp.subject(key))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	return &Record{Key: key, Header: m.Header, Body: m.Data, Seq: m.Sequence, Time: m.Time}, nil
}

// PutOptions qualify a Put.
type PutOptions struct {
	// TTL removes the record after this long (at least a second). The
	// server removes it; readers should also check their own expiry.
	TTL time.Duration
	// IfSeq, when set, makes the put conditional: it succeeds only if the
	// key's current record has this sequence (0: only if there is none).
	IfSeq *uint64
}

// ErrConflict means a conditional put lost to another writer.
var ErrConflict = errors.New("record changed concurrently")

// Put writes key's record and returns its sequence once JetStream has
// stored it.
func (sp *Space) Put(ctx context.Context, key string, header nats.Header, body []byte, o PutOptions) (uint64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	m := &nats.Msg{Subject: sp.subject(key), Header: header, Data: body}
	var opts []jetstream.PublishOpt
	if o.TTL > 0 {
		opts = append(opts, jetstream.WithMsgTTL(max(o.TTL, time.Second)))
	}
	if o.IfSeq != nil {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*o.IfSeq))
	}
	ack, err := sp.s.js.PublishMsg(ctx, m, opts...)
	if err != nil {
		var apiErr *jetstream.APIError
		if o.IfSeq != nil && errors.As(err, &apiErr) &&
			(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return 0, ErrConflict
		}
		return 0, fmt.Errorf("write record: %w", err)
	}
	return ack.Sequence, nil
}

// Delete removes key's record. With upTo > 0 it removes it only if its
// sequence is at most upTo, so a record written since the caller read it
// survives.
func (sp *Space) Delete(ctx context.Context, key string, upTo uint64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	opts := []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(sp.subject(key))}
	if upTo > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(upTo+1))
	}
	if err := sp.s.st.Purge(ctx, opts...); err != nil {
		return fmt.Errorf("delete record: %w", err)
	}
	return nil
}

// Entry is a record as a scan delivers it: headers only.
type Entry struct {
	Key    string
	Header nats.Header
	Seq    uint64
	Size   int // body size in bytes
}

// scanBatch is how many records a scan asks the server for at once.
const scanBatch = 512

// Scan calls fn for every record whose key starts with prefix, in stream
// order, without their bodies. It holds one batch in memory at a time.
// fn returning an error stops the scan with that error. A scan that
// lost deliveries stops with ErrScanGap, and fn has then not seen every
// record.
func (sp *Space) Scan(ctx context.Context, prefix string, fn func(Entry) error) error {
	if len(prefix) > MaxKeyBytes {
		return fmt.Errorf("prefix of %d bytes is over the limit of %d", len(prefix), MaxKeyBytes)
	}
	var b strings.Builder
	b.WriteString(sp.prefix)
	encodePrefix(&b, prefix)
	cons, err := sp.s.st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     b.String(),
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		HeadersOnly:       true,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("scan records: %w", err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = sp.s.st.DeleteConsumer(dctx, name) // else it expires after InactiveThreshold
	}()
	return sp.scan(ctx, cons, fn)
}

// scan hands fn what cons (a fresh AckNone consumer) delivers.
func (sp *Space) scan(ctx context.Context, cons jetstream.Consumer, fn func(Entry) error) error {
	sc := &scanner{sp: sp, fn: fn, pending: cons.CachedInfo().NumPending}
	for sc.pending > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The records are in the stream already: ask for what is there now
		// rather than waiting for a full batch.
		batch, err := cons.FetchNoWait(int(min(sc.pending, scanBatch)))
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		got, err := sc.deliver(batch)
		if err != nil {
			return err
		}
		if got > 0 {
			continue
		}
		// Nothing came: either the records left were deleted since the
		// consumer counted them, or the server is slow. Ask it, wait once
		// if it says more are coming, and never end a scan early without
		// its word.
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		if info.Delivered.Consumer > sc.lastCons {
			return sc.lost(info.Delivered.Consumer)
		}
		if info.NumPending == 0 {
			return nil
		}
		if batch, err = cons.Fetch(int(min(info.NumPending, scanBatch)), jetstream.FetchMaxWait(5*time.Second)); err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		if got, err = sc.deliver(batch); err != nil {
			return err
		}
		if got == 0 {
			return fmt.Errorf("scan records: the server holds %d more records but delivered none within 5s", info.NumPending)
		}
	}
	return nil
}

// ErrScanGap means records the server delivered to a scan never reached
// it: the client gives up on a fetch after a second without a message
// (nats.go's FetchNoWait), and what the server sends after that is lost
// to an AckNone consumer. The scan is incomplete; a caller scans again.
var ErrScanGap = errors.New("scan records: deliveries were lost (the client stopped waiting for a batch); scan again")

// scanner hands a scan's batches to its callback.
type scanner struct {
	sp       *Space
	fn       func(Entry) error
	pending  uint64 // records the consumer has yet to deliver
	lastCons uint64 // consumer sequence of the last record received
}

func (sc *scanner) lost(next uint64) error {
	return fmt.Errorf("%w: received up to delivery %d, the server is at %d", ErrScanGap, sc.lastCons, next)
}

// deliver hands a batch to fn and returns how many records it held.
func (sc *scanner) deliver(batch jetstream.MessageBatch) (int, error) {
	got := 0
	for m := range batch.Messages() {
		got++
		meta, err := m.Metadata()
		if err != nil {
			return got, fmt.Errorf("scan records: %w", err)
		}
		if meta.Sequence.Consumer != sc.lastCons+1 {
			return got, sc.lost(meta.Sequence.Consumer)
		}
		sc.lastCons = meta.Sequence.Consumer
		sc.pending = meta.NumPending
		key, err := decodeKey(strings.TrimPrefix(m.Subject(), sc.sp.prefix))
		if err != nil {
			continue // not ours to list; cannot happen under the space's filter
		}
		size := 0
		if s := m.Headers().Get(nats.MsgSize); s != "" {
			size, _ = strconv.Atoi(s)
		}
		if err := sc.fn(Entry{Key: key, Header: m.Headers(), Seq: meta.Sequence.Stream, Size: size}); err != nil {
			return got, err
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		return got, fmt.Errorf("scan records: %w", err)
	}
	return got, nil
}

// Header returns the headers of the record stored at subject (as given by
// Space.Subject), or nil when there is none.
func (s *Stream) Header(ctx context.Context, subject string) (nats.Header, error) {
	if !strings.HasPrefix(subject, s.prefix) {
		return nil, fmt.Errorf("subject %q is not in stream %s", subject, s.name)
	}
	m, err := s.st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	return m.Header, nil
}
