// Package blob owns large bodies: object contents and KV values too big to
// travel as one NATS message. A blob is a run of fixed-size chunks on its
// own stream (wisp-blobs), written and read over its own connection, one
// chunk per message under wisp.blob.<id>.<n>. Writers keep a few chunks in
// flight and readers fetch one chunk at a time by subject, so memory stays
// bounded by a few chunks whatever the blob's size, and a reader never
// depends on a push consumer's flow control. Blobs are immutable: a new
// value is a new blob, and the record that points at a blob is the only
// thing that makes it live (see Sweep).
package blob

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
)

// StreamName is the stream holding every blob's chunks.
const StreamName = "wisp-blobs"

const subjectPrefix = "wisp.blob."

// ChunkSize is the size of every chunk but a blob's last. It fits the
// default 1 MiB NATS max_payload of an external server with room to spare.
const ChunkSize = 256 << 10

// inFlight is how many chunks a writer publishes before waiting for the
// oldest acknowledgement.
const inFlight = 4

// ownerHeader on a blob's first chunk names the record that owns it.
const ownerHeader = "Wisp-Owner"

// Store reads and writes blobs.
type Store struct {
	nc *nats.Conn
	js jetstream.JetStream
	st jetstream.Stream
}

// Open opens the blob stream (creating it when missing) on a connection of
// its own.
func Open(ctx context.Context, s *store.Store) (*Store, error) {
	nc, err := s.Connect("wisp-blobs")
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open JetStream for blobs: %w", err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:         StreamName,
		Description:  "wisp: chunks of objects and large KV values",
		Subjects:     []string{subjectPrefix + ">"},
		Storage:      jetstream.FileStorage,
		Replicas:     s.Replicas(),
		MaxMsgs:      -1,
		MaxBytes:     -1,
		MaxMsgSize:   -1,
		MaxConsumers: -1,
		Discard:      jetstream.DiscardNew,
		AllowDirect:  true,
		DenyDelete:   true,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open blob stream: %w", err)
	}
	return &Store{nc: nc, js: js, st: st}, nil
}

// Close closes the blob connection.
func (b *Store) Close() {
	if b.nc != nil {
		_ = b.nc.Drain()
		b.nc.Close()
	}
}

// Info is what a record keeps to read its blob back.
type Info struct {
	ID   string `json:"id"`
	Size int64  `json:"size"`
	MD5  string `json:"md5"` // hex
}

// TooLargeError is a body over the caller's limit. Read is how much was
// read before giving up (at least Limit+1).
type TooLargeError struct{ Limit, Read int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("body of at least %d bytes is over the limit of %d", e.Read, e.Limit)
}

func chunkSubject(id string, n int64) string {
	return subjectPrefix + id + "." + strconv.FormatInt(n, 10)
}

// Put stores r's bytes as a new blob owned by owner (a string naming the
// record that will point at it, for Sweep). More than limit bytes is a
// *TooLargeError and stores nothing.
func (b *Store) Put(ctx context.Context, owner string, r io.Reader, limit int64) (*Info, error) {
	id := newID()
	sum := md5.New()
	var size, n int64
	var pending []jetstream.PubAckFuture
	fail := func(err error) (*Info, error) {
		// Chunks published but not yet acknowledged may land after a purge
		// and outlive it: let them settle first, then purge.
		settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		for _, f := range pending {
			select {
			case <-f.Ok():
			case <-f.Err():
			case <-settle.Done():
			}
		}
		cancel()
		b.purge(id)
		return nil, err
	}
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return fmt.Errorf("store blob chunk: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		buf := make([]byte, ChunkSize) // owned by the message until acknowledged
		k, rerr := io.ReadFull(r, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return fail(fmt.Errorf("read body: %w", rerr))
		}
		size += int64(k)
		if size > limit {
			// Drain a little more so the error can say how big the body is.
			more, _ := io.Copy(io.Discard, io.LimitReader(r, 64<<20))
			return fail(&TooLargeError{Limit: limit, Read: size + more})
		}
		if k > 0 || n == 0 {
			sum.Write(buf[:k])
			m := &nats.Msg{Subject: chunkSubject(id, n), Data: buf[:k]}
			if n == 0 {
				m.Header = nats.Header{ownerHeader: {owner}}
			}
			f, err := b.js.PublishMsgAsync(m)
			if err != nil {
				return fail(fmt.Errorf("store blob chunk: %w", err))
			}
			pending = append(pending, f)
			n++
			if len(pending) == inFlight {
				if err := wait(pending[0]); err != nil {
					return fail(err)
				}
				pending = pending[1:]
			}
		}
		if rerr != nil {
			break
		}
	}
	for _, f := range pending {
		if err := wait(f); err != nil {
			return fail(err)
		}
	}
	return &Info{ID: id, Size: size, MD5: fmt.Sprintf("%x", sum.Sum(nil))}, nil
}

// purge removes a blob's chunks; it is used to undo a failed Put, whose
// caller has already got an error to report.
func (b *Store) purge(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.st.Purge(ctx, jetstream.WithPurgeSubject(subjectPrefix+id+".>"))
}

// Delete removes a blob.
func (b *Store) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return fmt.Errorf("%q is not a blob id", id)
	}
	if err := b.st.Purge(ctx, jetstream.WithPurgeSubject(subjectPrefix+id+".>")); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// ErrGone means a blob's chunks vanished while it was read (its record was
// overwritten or deleted and the blob removed).
var ErrGone = errors.New("the object was replaced or deleted while it was being read")

// Open returns a reader of length bytes of the blob from offset (length
// < 0: to the end). It holds one chunk in memory at a time; ctx bounds
// every chunk fetch.
func (b *Store) Open(ctx context.Context, info Info, offset, length int64) (io.ReadCloser, error) {
	if !validID(info.ID) {
		return nil, fmt.Errorf("%q is not a blob id", info.ID)
	}
	if offset < 0 || offset > info.Size {
		return nil, fmt.Errorf("offset %d is outside a blob of %d bytes", offset, info.Size)
	}
	if length < 0 || offset+length > info.Size {
		length = info.Size - offset
	}
	return &reader{ctx: ctx, b: b, id: info.ID, next: offset / ChunkSize, skip: offset % ChunkSize, left: length}, nil
}

type reader struct {
	ctx  context.Context
	b    *Store
	id   string
	next int64 // next chunk to fetch
	skip int64 // bytes to drop from the start of the next chunk
	buf  []byte
	left int64 // bytes still to deliver
	err  error
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left == 0 {
		return 0, io.EOF
	}
	if len(r.buf) == 0 {
		m, err := r.b.st.GetLastMsgForSubject(r.ctx, chunkSubject(r.id, r.next))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			r.err = ErrGone
			return 0, r.err
		}
		if err != nil {
			r.err = fmt.Errorf("read blob chunk %d: %w", r.next, err)
			return 0, r.err
		}
		r.buf = m.Data
		if r.skip > 0 {
			r.buf = r.buf[min(r.skip, int64(len(r.buf))):]
			r.skip = 0
		}
		r.next++
		if len(r.buf) == 0 {
			r.err = ErrGone // a chunk shorter than the size promised
			return 0, r.err
		}
	}
	n := copy(p, r.buf[:min(int64(len(r.buf)), r.left)])
	r.buf = r.buf[n:]
	r.left -= int64(n)
	return n, nil
}

func (r *reader) Close() error {
	r.buf, r.err = nil, errors.New("read of a closed blob")
	return nil
}

// Sweep removes blobs that no record owns any more: ones left by a write
// that crashed before its record was stored, by an overwritten KV value,
// or by an expired key. live reports whether owner still points at id;
// blobs younger than grace are never touched (their record may be on its
// way). Sweeping is idempotent, so every node may do it.
func (b *Store) Sweep(ctx context.Context, grace time.Duration, live func(ctx context.Context, owner, id string) (bool, error)) (removed int, err error) {
	cons, err := b.st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     subjectPrefix + "*.0",
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		HeadersOnly:       true,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return 0, fmt.Errorf("sweep blobs: %w", err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = b.st.DeleteConsumer(dctx, name)
	}()
	cutoff := time.Now().Add(-grace)
	for pending := cons.CachedInfo().NumPending; pending > 0; {
		batch, err := cons.FetchNoWait(int(min(pending, 256)))
		if err != nil {
			return removed, fmt.Errorf("sweep blobs: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return removed, fmt.Errorf("sweep blobs: %w", err)
			}
			pending = meta.NumPending
			if meta.Timestamp.After(cutoff) {
				continue
			}
			id := m.Subject()[len(subjectPrefix) : len(m.Subject())-len(".0")]
			ok, err := live(ctx, m.Headers().Get(ownerHeader), id)
			if err != nil {
				return removed, err
			}
			if !ok {
				if err := b.Delete(ctx, id); err != nil {
					return removed, err
				}
				removed++
			}
		}
		if got == 0 {
			break
		}
	}
	return removed, nil
}

// newID is a random blob id: 32 lowercase hex digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && id == strings.ToLower(id)
}
