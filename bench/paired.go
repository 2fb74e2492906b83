package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

// observePaired measures what observability costs as a paired
// comparison: a default node and a --no-observe node serve the hello
// worker at the same time, each from half the connections, so whatever
// else the machine does in a round falls on both alike. Each round
// reads both processes' CPU time around the same window; the ratio of
// their CPU time per request, round by round, is the cost. (The
// throughput section measures targets one after the other, and two
// identically configured nodes there differ by 3–8%, more than the
// margin of the 10% goal.)
func observePaired(e *env, o options) error {
	type side struct {
		name  string
		flags []string
		n     *wispNode
		url   string
	}
	sides := []*side{{name: "default (metrics, usage, traces)"}, {name: "--no-observe", flags: []string{"--no-observe"}}}
	for i, s := range sides {
		n, err := e.startWisp(filepath.Join(e.work, fmt.Sprintf("data-paired-%d", i)), s.flags...)
		if err != nil {
			return err
		}
		defer n.stop()
		if err := e.deploy(n, jsService("hello", "/hello", helloWorker, fmt.Sprintf("max_instances = %d", runtime.NumCPU()*2))); err != nil {
			return err
		}
		s.n, s.url = n, "http://"+n.gateway+"/hello"
	}
	conns := max(o.conns/2, 1)
	rounds := max(o.rounds, 1)
	fmt.Printf("\n## observability, paired: both nodes loaded at once, %d connections each, %s per round after %s warm-up, %d round(s)\n", conns, o.duration, o.warmup, rounds)
	var cpuRatios, rpsRatios []float64
	cpuPer := make([][]time.Duration, len(sides))
	for round := range rounds {
		results := make([]*result, len(sides))
		cpu := make([]time.Duration, len(sides))
		runtime.GC()
		both := func(d time.Duration, measure bool) {
			var wg sync.WaitGroup
			for i, s := range sides {
				wg.Go(func() { results[i] = load(s.url, conns, d) })
			}
			if measure {
				for i, s := range sides {
					cpu[i] = processCPU(s.n.pid())
				}
			}
			wg.Wait()
			if measure {
				for i, s := range sides {
					cpu[i] = processCPU(s.n.pid()) - cpu[i]
				}
			}
		}
		both(o.warmup, false)
		both(o.duration, true)
		per := make([]time.Duration, len(sides))
		for i, r := range results {
			if r.errors > 0 {
				return fmt.Errorf("%s: %d failed requests (first: %v)", sides[i].name, r.errors, r.firstErr)
			}
			if r.requests == 0 || cpu[i] <= 0 {
				return fmt.Errorf("%s: no CPU time or requests to compare (is /proc readable?)", sides[i].name)
			}
			per[i] = cpu[i] / time.Duration(r.requests)
			cpuPer[i] = append(cpuPer[i], per[i])
		}
		cpuRatios = append(cpuRatios, float64(per[0])/float64(per[1]))
		rpsRatios = append(rpsRatios, results[0].rps/results[1].rps)
		fmt.Printf("round %2d: %-34s %8.0f req/s %7.1fµs CPU/req | %-13s %8.0f req/s %7.1fµs CPU/req\n", round+1,
			sides[0].name, results[0].rps, us(per[0]), sides[1].name, results[1].rps, us(per[1]))
	}
	fmt.Printf("median CPU per request: default %.1fµs, --no-observe %.1fµs: observability costs %+.1f%% (rounds %s)\n",
		us(median(cpuPer[0])), us(median(cpuPer[1])), (median(cpuRatios)-1)*100, spread(cpuRatios))
	fmt.Printf("median req/s ratio default / --no-observe: %.3f× (rounds %s)\n", median(rpsRatios), spread(rpsRatios))
	return nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func spread(v []float64) string {
	return fmt.Sprintf("%.3f–%.3f", slices.Min(v), slices.Max(v))
}
