package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Change is one update to the set of services seen by a watcher.
type Change struct {
	Name     string
	Service  *Service // nil when the service was removed
	Revision uint64
	// Replayed marks the end of the initial replay: every service that
	// existed when the watch started has been delivered before it. Name
	// and Service are empty on this change.
	Replayed bool
	Err      error // a record that could not be decoded
}

// Watch delivers every service record (the current ones first, then each
// change) until ctx is done, when the channel is closed.
func (r *Registry) Watch(ctx context.Context) (<-chan Change, error) {
	w, err := r.kv.Watch(ctx, "svc.*")
	if err != nil {
		return nil, fmt.Errorf("watch services: %w", err)
	}
	out := make(chan Change, 64)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				c := toChange(e)
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func toChange(e jetstream.KeyValueEntry) Change {
	if e == nil {
		return Change{Replayed: true}
	}
	c := Change{Name: strings.TrimPrefix(e.Key(), "svc."), Revision: e.Revision()}
	if e.Operation() != jetstream.KeyValuePut {
		return c
	}
	s, err := decodeService(e)
	if err != nil {
		c.Err = err
		return c
	}
	c.Service = s
	return c
}
