package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wisp-run/wisp/internal/store"
	"github.com/wisp-run/wisp/internal/store/storetest"
)

// TestAwaitAcks: each publish gets its own outcome, in order: stored,
// refused by the stream; and once the wait is out of time, what had
// been acknowledged still counts.
func TestAwaitAcks(t *testing.T) {
	st := storetest.Open(t)
	if _, err := st.JS.CreateStream(testCtx(t), jetstream.StreamConfig{Name: "ACKS", Subjects: []string{"acks.>"}, MaxMsgSize: 16}); err != nil {
		t.Fatal(err)
	}
	publish := func() []jetstream.PubAckFuture {
		var acks []jetstream.PubAckFuture
		for _, body := range []string{"small", strings.Repeat("x", 64), "small too"} {
			a, err := st.JS.PublishAsync("acks.x", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, a)
		}
		return acks
	}
	errs := store.AwaitAcks(testCtx(t), publish())
	if errs[0] != nil || errs[2] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "maximum") {
		t.Fatalf("outcomes %v, want nil, a size refusal, nil", errs)
	}

	// Out of time, but every answer has arrived: they count as they are.
	acks := publish()
	select {
	case <-st.JS.PublishAsyncComplete():
	case <-testCtx(t).Done():
		t.Fatal("the answers did not arrive")
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	errs = store.AwaitAcks(done, acks)
	if errs[0] != nil || errs[2] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "maximum") {
		t.Fatalf("with the context ended: %v", errs)
	}
}
