package store

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// AwaitAcks waits for the acknowledgements of asynchronous publishes
// (jetstream.PublishAsync) until ctx ends, and returns each one's error:
// nil for an acknowledged message, the server's refusal, or, for one
// still unanswered when ctx ended, an error wrapping ctx.Err(). An
// acknowledgement that has arrived by then counts, whichever channel
// the wait saw first.
//
// Publishing a batch and then awaiting it costs a few round trips through
// the server where one synchronous publish after another costs one each.
func AwaitAcks(ctx context.Context, acks []jetstream.PubAckFuture) []error {
	errs := make([]error, len(acks))
	for i, a := range acks {
		select {
		case <-a.Ok():
			continue
		case err := <-a.Err():
			errs[i] = err
			continue
		case <-ctx.Done():
		}
		select {
		case <-a.Ok():
		case err := <-a.Err():
			errs[i] = err
		default:
			errs[i] = fmt.Errorf("no acknowledgement: %w", ctx.Err())
		}
	}
	return errs
}
