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
// through runtime.MustDiscard, whether the instance is thrown away. The
// invocation is observed like Fetch's: a caller that began it
// (observe.Service.Begin, with its trigger) has it adopted.
func (p *Pool) Run(ctx context.Context, fn func(ctx context.Context, inst runtime.Instance) error) error {
	ctx, inv := p.cfg.Observe.Adopt(ctx, nil)
	p, e, err := p.take(ctx, inv)
	if err != nil {
		return err
	}
	broken, lingering, ran := true, false, error(errPanicked)
	defer func() { p.end(inv, e, broken, lingering, ran) }()
	ctx = binding.StartInvocation(ctx, binding.DefaultMaxSubrequests)
	err = fn(ctx, e.inst)
	broken, ran = runtime.MustDiscard(err), err
	lingering = p.linger(inv, e, broken)
	return err
}
