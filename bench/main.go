// Command bench is wisp's benchmark suite. In one run on one machine it
// drives wisp and its baselines side by side and prints ratios, because the
// machines we share are noisy:
//
//   - throughput: hello and JSON workers on wisp next to a raw Go net/http
//     server (the ceiling) and every peer (workerd, installed from npm when
//     missing; Go-wasm when the node has a wasm engine): req/s,
//     per-request p50/p99/p99.9, ratio to raw, and the server process's
//     CPU time per request (from /proc; steadier than req/s when other
//     work shares the cores, so the finer measure of what a change costs);
//
//   - scaleup: a step from 1 to many connections on a service at zero:
//     cold starts, instances over time, latency during the step;
//
//   - density: N services (default 1000) deployed, scaled to zero: node RSS,
//     memory per idle service, node start-up time with N services, and the
//     first request of each service from zero (cold start p50/p99/max),
//     as the client measured it and as the node did (each request's span),
//     with the slowest requests listed by time; beside it the same walk on
//     a raw Go server whose heap grows as the node's does (rawgrow.go), to
//     tell what any Go server would cost on this machine. WISP_BENCH_STDERR=DIR keeps
//     every server's stderr there (e.g. with GODEBUG=gctrace=1), and
//     WISP_RUNTIME_TRACE=FILE, passed on to the nodes, makes each write a
//     Go execution trace (the last node started, the one measured, wins).
//     WISP_BENCH_SERVER_ENV="K=V ..." adds environment for the servers
//     only, not the load generator (e.g. GODEBUG=gctrace=1 GOMAXPROCS=4).
//     WISP_BENCH_SERVER_CPUS=LIST starts the servers under `taskset -c
//     LIST` (run the bench itself under taskset for the other CPUs), and
//     WISP_BENCH_SERVER_NICE=N under `nice -n N`.
//
//     go run ./bench                          # everything
//     go run ./bench -sections throughput -duration 5s -rounds 3
//     go run ./bench -sections density -services 1000
//     go run ./bench -sections throughput -targets 'JS hello' -rounds 7
//     go run ./bench -sections observe -rounds 10   # paired: observability's cost
//
// Every server runs in its own process; the load generator is this one,
// with its own lean HTTP/1.1 client (httpconn.go; as light per request
// as wrk, so that on two cores it leaves the servers the CPU they can
// use). -hold starts the throughput targets and serves them until
// interrupted, for a cross-check with another generator:
//
//	go run ./bench -hold            # prints each target's URL
//	wrk -t2 -c32 -d5s URL
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// peers start the servers wisp is compared with, and wisp itself; each
// returns the targets it serves. A peer that cannot run here returns
// errSkip (wrapped with the reason), which is reported, not fatal. To add
// one, write its func in its own file and list it here.
var peers = []peer{rawPeer, wispJSPeer, observePeer, workerdPeer, goWasmPeer}

func main() {
	serveRaw := flag.String("serve-raw", "", "internal: serve the raw net/http baseline on this address")
	serveRawGrow := flag.String("serve-raw-grow", "", "internal: serve the density section's growing-heap raw baseline on this address")
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "load duration per throughput target")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each throughput measurement")
	flag.IntVar(&o.conns, "connections", 32, "concurrent connections")
	flag.IntVar(&o.rounds, "rounds", 1, "throughput rounds over all targets (req/s is the median, latencies are pooled)")
	flag.IntVar(&o.services, "services", 1000, "services deployed for the density section")
	flag.DurationVar(&o.keepAlive, "keep-alive", time.Second, "keep-alive of the density node (how soon services scale to zero)")
	flag.DurationVar(&o.step, "step", 3*time.Second, "duration of each step of the scale-up section")
	sections := flag.String("sections", "throughput,scaleup,density", "sections to run, comma-separated")
	flag.StringVar(&o.only, "targets", "", "throughput: only the targets whose name matches this regular expression (the raw baselines always run)")
	flag.BoolVar(&o.hold, "hold", false, "throughput: start the targets, print their URLs and process ids, and serve until interrupted (to drive them with another load generator)")
	flag.Parse()
	if *serveRaw != "" {
		rawServer(*serveRaw)
		return
	}
	if *serveRawGrow != "" {
		rawGrowServer(*serveRawGrow)
		return
	}
	o.sections = strings.Split(*sections, ",")
	if o.hold {
		o.sections = []string{"throughput"}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	duration, warmup, step time.Duration
	keepAlive              time.Duration
	conns, services        int
	rounds                 int
	sections               []string
	only                   string
	hold                   bool
}

func run(o options) error {
	e, err := newEnv()
	if err != nil {
		return err
	}
	defer e.close()
	fmt.Printf("# wisp benchmark suite: %d CPUs, %s, %s\n", runtime.NumCPU(), runtime.Version(), machine())
	for _, s := range o.sections {
		var err error
		switch s {
		case "throughput":
			err = throughput(context.Background(), e, o)
		case "scaleup":
			err = scaleUp(e, o)
		case "density":
			err = density(e, o)
		case "observe":
			err = observePaired(e, o)
		default:
			err = fmt.Errorf("unknown section %q (throughput, scaleup, density, observe)", s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// throughput starts every peer, then loads each target in turn and prints
// its ratio to the raw net/http target of the same workload.
func throughput(ctx context.Context, e *env, o options) error {
	only, err := regexp.Compile(o.only)
	if err != nil {
		return fmt.Errorf("-targets: %w", err)
	}
	var targets []target
	for _, p := range peers {
		ts, err := p(ctx, e)
		if err != nil {
			if isSkip(err) {
				fmt.Printf("# skipped: %v\n", err)
				continue
			}
			return err
		}
		for _, t := range ts {
			if t.baseline || only.MatchString(t.name) {
				targets = append(targets, t)
			}
		}
	}
	// Group by workload, raw first.
	slices.SortStableFunc(targets, func(a, b target) int {
		if c := strings.Compare(a.workload, b.workload); c != 0 {
			return c
		}
		if a.baseline != b.baseline {
			if a.baseline {
				return -1
			}
			return 1
		}
		return 0
	})
	if o.hold {
		return hold(targets)
	}
	fmt.Printf("\n## throughput: %d connections, %s per target after %s warm-up, %d round(s)\n", o.conns, o.duration, o.warmup, max(o.rounds, 1))
	// Rounds interleave the targets so that a burst of load from elsewhere
	// on the machine hits one round of each, not all of one target.
	results := make([][]*result, len(targets))
	for range max(o.rounds, 1) {
		// Each round takes the targets in a new random order, so that no
		// target always follows the same one: the load generator's
		// garbage from a fast target slows the next, and the server that
		// ran before keeps a core's caches. (Rotating one order, as this
		// did first, keeps every target's predecessor: the default node
		// always followed raw net/http.) The generator also collects its
		// garbage before each target.
		for _, i := range rand.Perm(len(targets)) {
			tg := targets[i]
			runtime.GC()
			load(tg.url, o.conns, o.warmup)
			cpu0 := processCPU(tg.pid)
			r := load(tg.url, o.conns, o.duration)
			if r.errors > 0 {
				return fmt.Errorf("%s: %d failed requests (first: %v)", tg.name, r.errors, r.firstErr)
			}
			if cpu := processCPU(tg.pid) - cpu0; cpu > 0 && r.requests > 0 {
				r.cpu = cpu / time.Duration(r.requests)
			}
			results[i] = append(results[i], r)
		}
	}
	fmt.Printf("%-28s %10s %9s %9s %9s %8s %11s %9s\n", "target", "req/s", "p50", "p99", "p99.9", "vs raw", "vs workerd", "CPU/req")
	raw, peer := map[string]float64{}, map[string]float64{}
	for i, tg := range targets {
		if strings.HasPrefix(tg.name, "workerd ") {
			peer[tg.workload] = merge(results[i]).rps
		}
	}
	for i, tg := range targets {
		r := merge(results[i])
		ratio, vsPeer := "", ""
		if tg.baseline {
			raw[tg.workload] = r.rps
		} else if base := raw[tg.workload]; base > 0 {
			ratio = fmt.Sprintf("%.2f×", r.rps/base)
		}
		if p := peer[tg.workload]; p > 0 && strings.HasPrefix(tg.name, "wisp JS ") {
			vsPeer = fmt.Sprintf("%.2f×", r.rps/p)
		}
		cpu := "-"
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.1fµs", float64(r.cpu)/float64(time.Microsecond))
		}
		fmt.Printf("%-28s %10.0f %9s %9s %9s %8s %11s %9s\n", tg.name, r.rps, r.pct(50), r.pct(99), r.pct(99.9), ratio, vsPeer, cpu)
	}
	return nil
}

// hold prints the targets and waits for an interrupt, keeping them served.
func hold(targets []target) error {
	for _, t := range targets {
		fmt.Printf("%-28s %s pid %d\n", t.name, t.url, t.pid)
	}
	fmt.Println("# serving until interrupted")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
