package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// scaleUp starts a service at zero instances and drives it with a step
// load: one connection, then o.conns at once. It prints latency per phase
// (and for the first 500 ms after the step), cold starts and how the
// instances followed.
func scaleUp(e *env, o options) error {
	n, err := e.startWisp(filepath.Join(e.work, "data-scaleup"), "--keep-alive", "2s")
	if err != nil {
		return err
	}
	defer n.stop()
	const maxInst = 16
	if err := e.deploy(n, jsService("step", "/step", jsonWorker, fmt.Sprintf("max_instances = %d", maxInst))); err != nil {
		return err
	}
	if err := waitScaledToZero(n, 1); err != nil {
		return err
	}
	url := "http://" + n.gateway + "/step?q=1"

	type sample struct {
		at        time.Duration
		instances int
		cold      uint64
	}
	var mu sync.Mutex
	var samples []sample
	start := time.Now()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for ctx.Err() == nil {
			if info, err := n.client.Service(ctx, "step"); err == nil && info.Pool != nil {
				mu.Lock()
				samples = append(samples, sample{time.Since(start), info.Pool.Instances, info.Pool.ColdStarts})
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	})
	one := load(url, 1, o.step)
	stepAt := time.Since(start)
	var early []time.Duration
	var emu sync.Mutex
	stepStart := time.Now()
	many := loadCtx(context.Background(), url, o.conns, o.step, func(end time.Time, lat time.Duration) {
		if end.Sub(stepStart) < 500*time.Millisecond {
			emu.Lock()
			early = append(early, lat)
			emu.Unlock()
		}
	})
	stop()
	wg.Wait()
	if one.errors+many.errors > 0 {
		return fmt.Errorf("%d failed requests (first: %v)", one.errors+many.errors, firstErr(one, many))
	}
	sortDur(early)

	at := func(t time.Duration) (inst int, cold uint64) {
		for _, s := range samples {
			if s.at <= t {
				inst, cold = s.instances, s.cold
			}
		}
		return
	}
	inst1, cold1 := at(stepAt)
	inst2, cold2 := at(time.Since(start))
	peakAt := time.Duration(-1)
	for _, s := range samples {
		if s.at > stepAt && s.instances == inst2 {
			peakAt = s.at - stepAt
			break
		}
	}
	fmt.Printf("\n## scale-up: JSON worker from zero, max_instances %d, 1 connection for %s then %d for %s\n", maxInst, o.step, o.conns, o.step)
	fmt.Printf("%-34s %9s %9s %9s %9s %10s %11s\n", "phase", "req/s", "p50", "p99", "p99.9", "instances", "cold starts")
	fmt.Printf("%-34s %9.0f %9s %9s %9s %10d %11d\n", "1 connection (from zero)", one.rps, one.pct(50), one.pct(99), one.pct(99.9), inst1, cold1)
	fmt.Printf("%-34s %9.0f %9s %9s %9s %10d %11d\n", fmt.Sprintf("%d connections", o.conns), many.rps, many.pct(50), many.pct(99), many.pct(99.9), inst2, cold2-cold1)
	fmt.Printf("%-34s %9s %9s %9s %9s\n", "  first 500 ms after the step", "", pct(early, 50).Round(time.Microsecond), pct(early, 99).Round(time.Microsecond), pct(early, 99.9).Round(time.Microsecond))
	if peakAt >= 0 {
		fmt.Printf("instances reached %d within %s of the step (sampled every 50 ms)\n", inst2, peakAt.Round(time.Millisecond))
	}
	if info, err := n.client.Service(context.Background(), "step"); err == nil && info.Pool != nil {
		p := info.Pool
		fmt.Printf("pool at the end: %d prewarmed, %d cold starts, %d expired (keep-alive), %d discarded, %d recycled, %d rejected\n",
			p.Prewarmed, p.ColdStarts, p.Expired, p.Discarded, p.Recycled, p.Rejected)
	}
	return nil
}

func firstErr(rs ...*result) error {
	for _, r := range rs {
		if r.firstErr != nil {
			return r.firstErr
		}
	}
	return nil
}
