// Command queues measures queue throughput and send-to-handler latency in
// one run, for batches of 1 and of 100, on three targets:
//
//   - raw: nats.go publishing to, and pulling from, a JetStream work-queue
//     stream with nothing of wisp in between (the ceiling);
//   - platform: wisp's queue package (send, shared consumer runner,
//     batching, acknowledgements) with a Go handler;
//   - workers: a node with a producer worker (env.Q.send / sendBatch,
//     driven over HTTP) and a consumer worker (queue(batch)), both real JS.
//
// Each runs its own embedded JetStream in a fresh directory.
//
//	go run ./bench/queues                 # 20000 messages per run
//	go run ./bench/queues -messages 50000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"
)

func main() {
	n := flag.Int("messages", 20000, "messages per throughput run")
	pings := flag.Int("pings", 200, "single sends (or batches) timed one at a time for latency")
	only := flag.String("only", "", "run only this target: raw, platform or workers")
	flag.Parse()
	if err := run(*n, *pings, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench/queues:", err)
		os.Exit(1)
	}
}

// target is one thing measured.
type target interface {
	name() string
	// throughput sends n messages in sends of batch and returns when the
	// handler has seen them all.
	throughput(ctx context.Context, n, batch int) (time.Duration, error)
	// latency sends one batch and returns the time until the handler gets
	// its first message.
	latency(ctx context.Context, batch int) (time.Duration, error)
	close()
}

type result struct {
	target        string
	batch         int
	rate          float64 // messages per second
	p50, p99, max time.Duration
}

func run(n, pings int, only string) error {
	ctx := context.Background()
	makers := []struct {
		name string
		mk   func(batch int) (target, error)
	}{{"raw", newRaw}, {"platform", newPlatform}, {"workers", newWorkers}}
	var results []result
	for _, batch := range []int{1, 100} {
		for _, m := range makers {
			if only != "" && only != m.name {
				continue
			}
			t, err := m.mk(batch)
			if err != nil {
				return err
			}
			r, err := measure(ctx, t, n, pings, batch)
			t.close()
			if err != nil {
				return fmt.Errorf("%s, batch %d: %w", t.name(), batch, err)
			}
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "%-9s batch %3d: %8.0f msg/s  p50 %v\n", r.target, r.batch, r.rate, r.p50)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "target\tbatch\tmsg/s\tvs raw\tsend→handler p50\tp99\tmax\n")
	raw := map[int]float64{}
	for _, r := range results {
		if r.target == "raw" {
			raw[r.batch] = r.rate
		}
	}
	for _, r := range results {
		ratio := ""
		if base := raw[r.batch]; base > 0 && r.target != "raw" {
			ratio = fmt.Sprintf("%.2f×", r.rate/base)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%v\t%v\t%v\n", r.target, r.batch, r.rate, ratio, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.max.Round(time.Microsecond))
	}
	return tw.Flush()
}

func measure(ctx context.Context, t target, n, pings, batch int) (result, error) {
	// Warm up: a few sends through the whole path.
	if _, err := t.throughput(ctx, min(n, 10*batch), batch); err != nil {
		return result{}, err
	}
	took, err := t.throughput(ctx, n, batch)
	if err != nil {
		return result{}, err
	}
	count := pings
	if batch > 1 {
		count = max(pings/4, 10)
	}
	lat := make([]time.Duration, 0, count)
	for range count {
		// A pause between pings: latency of a message that finds the
		// consumer idle, not one queued behind the previous ping's ack.
		time.Sleep(2 * time.Millisecond)
		d, err := t.latency(ctx, batch)
		if err != nil {
			return result{}, err
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	return result{
		target: t.name(), batch: batch, rate: float64(n) / took.Seconds(),
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], max: lat[len(lat)-1],
	}, nil
}
