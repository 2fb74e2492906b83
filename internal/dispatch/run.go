package dispatch

import (
	"context"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Run runs fn on an instance of the pool, under the same slot, queue and
// discard rules as Fetch: it is how triggers other than HTTP (queue
// batches, cron ticks) reach an instance. fn's error decides, through
// runtime.MustDiscard, whether the instance is thrown away.
func (p *Pool) Run(ctx context.Context, fn func(runtime.Instance) error) error {
	inst, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	broken := true
	defer func() { p.release(inst, broken) }()
	err = fn(inst)
	broken = runtime.MustDiscard(err)
	return err
}
