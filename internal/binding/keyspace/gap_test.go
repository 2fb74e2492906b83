package keyspace

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store/storetest"
)

// TestScanDetectsLostDeliveries: records the server delivered to a scan's
// consumer that never reached the scan (here: taken by another fetch, as
// a fetch the client gave up on would lose them) end the scan with
// ErrScanGap, never with a silently short listing; and Page scans again.
func TestScanDetectsLostDeliveries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, storetest.Open(t), "gap-records")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := s.Space("t")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := sp.Put(ctx, fmt.Sprintf("k%02d", i), nil, []byte("v"), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	consumer := func() jetstream.Consumer {
		c, err := s.st.CreateConsumer(ctx, jetstream.ConsumerConfig{
			FilterSubject: sp.prefix + ">", DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy,
			AckPolicy: jetstream.AckNonePolicy, HeadersOnly: true, MemoryStorage: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	steal := func(c jetstream.Consumer, n int) {
		b, err := c.FetchNoWait(n)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for range b.Messages() {
			got++
		}
		if got != n {
			t.Fatalf("stole %d records, want %d", got, n)
		}
	}
	for _, tc := range []struct {
		name   string
		stolen int
	}{
		{"first records lost", 5},
		{"every record lost", 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := consumer()
			steal(c, tc.stolen)
			seen := 0
			err := sp.scan(ctx, c, func(Entry) error { seen++; return nil })
			if !errors.Is(err, ErrScanGap) {
				t.Fatalf("scan after %d lost deliveries: err %v, saw %d of 20 records", tc.stolen, err, seen)
			}
		})
	}
	// A scan that loses nothing sees every record, and a page is whole.
	seen := 0
	if err := sp.scan(ctx, consumer(), func(Entry) error { seen++; return nil }); err != nil || seen != 20 {
		t.Fatalf("whole scan: %v, %d records", err, seen)
	}
	p, err := sp.Page(ctx, PageOptions{Limit: 100})
	if err != nil || len(p.Items) != 20 || p.More {
		t.Fatalf("page: %v, %d items, more %v", err, len(p.Items), p.More)
	}
}
