package dispatch

import (
	"context"

	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/runtime"
)

// Run runs fn on an instance of the pool (or of the pool that replaced
// it), under the same slot, queue, subrequest budget and discard rules as
// Fetch: it is how triggers other than HTTP (queue batches, cron ticks)
// reach an instance. fn gets the invocation's context; its error decides,
// through runtime.MustDiscard, whether the instance is thrown away.
func (p *Pool) Run(ctx context.Context, fn func(ctx context.Context, inst runtime.Instance) error) error {
	p, e, err := p.take(ctx)
	if err != nil {
		return err
	}
	broken, lingering := true, false
	defer func() {
		if !lingering {
			p.release(e, broken)
		}
	}()
	ctx = binding.StartInvocation(ctx, binding.DefaultMaxSubrequests)
	err = fn(ctx, e.inst)
	broken = runtime.MustDiscard(err)
	lingering = p.linger(e, broken)
	return err
}
