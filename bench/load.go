package main

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	rps       float64
	requests  int64
	cpu       time.Duration // the server's CPU time per request (0: not measured)
	latencies []time.Duration
	errors    int64
	firstErr  error
}

func (r *result) pct(p float64) string {
	if len(r.latencies) == 0 {
		return "-"
	}
	return pct(r.latencies, p).Round(time.Microsecond).String()
}

// pct is the p-th percentile of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

// load drives url from conns keep-alive connections for d, timing every
// request (no coordinated-omission correction: each latency is one real
// request's).
func load(url string, conns int, d time.Duration) *result {
	return loadCtx(context.Background(), url, conns, d, nil)
}

// loadCtx is load with a parent context and, when onDone is set, a call
// with each request's end time and latency.
func loadCtx(parent context.Context, url string, conns int, d time.Duration, onDone func(end time.Time, lat time.Duration)) *result {
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	// A request still running at the end of the window gets this long.
	deadline := time.Now().Add(d + 10*time.Second)
	var mu sync.Mutex
	res := &result{}
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			c, err := newConn(url)
			if err != nil {
				mu.Lock()
				res.firstErr, res.errors = err, res.errors+1
				mu.Unlock()
				return
			}
			defer c.close()
			lat := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := c.get(deadline); err != nil {
					if ctx.Err() != nil {
						break
					}
					mu.Lock()
					if res.firstErr == nil {
						res.firstErr = err
					}
					res.errors++
					mu.Unlock()
					continue
				}
				end := time.Now()
				lat = append(lat, end.Sub(t0))
				if onDone != nil {
					onDone(end, end.Sub(t0))
				}
				count.Add(1)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.requests = count.Load()
	res.rps = float64(res.requests) / time.Since(start).Seconds()
	slices.Sort(res.latencies)
	return res
}

func sortDur(d []time.Duration) { slices.Sort(d) }

// merge pools rounds of one target: the median req/s, every latency.
func merge(rs []*result) *result {
	out := &result{}
	var rps []float64
	var cpu []time.Duration
	for _, r := range rs {
		rps = append(rps, r.rps)
		if r.cpu > 0 {
			cpu = append(cpu, r.cpu)
		}
		out.latencies = append(out.latencies, r.latencies...)
		out.errors += r.errors
	}
	out.rps = median(rps)
	if len(cpu) > 0 {
		out.cpu = median(cpu)
	}
	slices.Sort(out.latencies)
	return out
}

// median is the middle value of v (the upper one of an even count).
func median[T cmp.Ordered](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
