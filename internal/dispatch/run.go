package dispatch

import (
	"context"

	"github.com/wisp-run/wisp/internal/runtime"
)

// Run runs fn on an instance of the pool (or of the pool that replaced
// it), under the same slot, queue and discard rules as Fetch: it is how
// triggers other than HTTP (queue batches, cron ticks) reach an instance.
// fn's error decides, through runtime.MustDiscard, whether the instance is
// thrown away.
func (p *Pool) Run(ctx context.Context, fn func(runtime.Instance) error) error {
	p, e, err := p.take(ctx)
	if err != nil {
		return err
	}
	broken := true
	defer func() { p.release(e, broken) }()
	err = fn(e.inst)
	broken = runtime.MustDiscard(err)
	return err
}
