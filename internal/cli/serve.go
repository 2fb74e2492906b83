package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-run/wisp/internal/node"
	"github.com/wisp-run/wisp/internal/observe"
)

type nodeFlags struct {
	listen, admin, nats string
	debug               bool
	scale               node.Scale
	observe             node.Observability
	traceSample         float64
	cpuSampleEvery      time.Duration
	callbackHosts       []string
	outboundAllow       []string
}

func (f *nodeFlags) register(cmd *cobra.Command, g *globals) {
	cmd.Flags().StringVar(&g.data, "data", "", "data directory (default $WISP_DATA, else ./.wisp)")
	cmd.Flags().StringVar(&f.listen, "listen", node.DefaultListen, "gateway address")
	cmd.Flags().StringVar(&f.admin, "admin", node.DefaultAdmin, "admin API address")
	cmd.Flags().StringVar(&f.nats, "nats", "", "use the NATS server (with JetStream) at this URL instead of the embedded one")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log debug detail")
	cmd.Flags().DurationVar(&f.scale.KeepAlive, "keep-alive", 0, "how long an idle instance above min_instances lives (default 1m; negative: forever)")
	cmd.Flags().IntVar(&f.scale.MaxInstances, "max-instances", 0, "instances of all services together (default 1000)")
	cmd.Flags().IntVar(&f.scale.MaxMemoryMB, "max-memory-mb", 0, "memory all instances may reserve together, at limits.memory_mb each (default: no limit)")
	cmd.Flags().IntVar(&f.scale.RecycleAfter, "recycle-after", 0, "replace an instance after this many requests (default: never)")
	cmd.Flags().Float64Var(&f.traceSample, "trace-sample", 1, "fraction of new traces recorded, 0 to 1 (0: no tracing)")
	cmd.Flags().StringVar(&f.observe.OTLPEndpoint, "otlp-endpoint", "", "also export traces to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318)")
	cmd.Flags().IntVar(&f.observe.TraceBuffer, "trace-buffer", 0, "spans kept on the node for wisp trace (default 4096)")
	cmd.Flags().DurationVar(&f.cpuSampleEvery, "cpu-sample-every", observe.DefaultCPUSampleEvery, "read the CPU clock for at most one invocation of each version per interval, estimate the others (0: measure every invocation)")
	cmd.Flags().BoolVar(&f.observe.Off, "no-observe", false, "no metrics, traces or usage metering (to measure their cost)")
	_ = cmd.Flags().MarkHidden("no-observe")
	cmd.Flags().StringSliceVar(&f.outboundAllow, "outbound-allow", nil, "let services' outbound fetch reach this loopback/private/link-local range (CIDR; repeatable), if their allowed_hosts list it")
	cmd.Flags().StringArrayVar(&f.callbackHosts, "callback-host", nil, "allow asynchronous invocations to post their outcome to this http(s)://HOST[:PORT] (repeatable; HOST may start with *., PORT may be *)")
}

func (g *globals) nodeConfig(f *nodeFlags) (node.Config, error) {
	level := slog.LevelInfo
	if f.debug {
		level = slog.LevelDebug
	}
	cfg := node.Config{DataDir: g.dataDir(), Listen: f.listen, Admin: f.admin, NATSURL: f.nats, Logger: g.logger(level), Scale: f.scale,
		Observe: f.observe, Triggers: node.TriggersConfig{CallbackHosts: f.callbackHosts}}
	cfg.Observe.TraceSample = f.traceSample
	if f.traceSample == 0 {
		cfg.Observe.NoTracing = true
	}
	switch {
	case f.cpuSampleEvery < 0:
		return cfg, usageError{fmt.Errorf("--cpu-sample-every %v is negative (0 measures every invocation)", f.cpuSampleEvery)}
	case f.cpuSampleEvery == 0:
		cfg.Observe.CPUSampleEvery = -1 // every invocation
	default:
		cfg.Observe.CPUSampleEvery = f.cpuSampleEvery
	}
	for _, s := range f.outboundAllow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--outbound-allow %q is not a CIDR range (e.g. 10.0.0.0/8 or 127.0.0.1/32)", s)}
		}
		cfg.OutboundAllowNets = append(cfg.OutboundAllowNets, p.Masked())
	}
	return cfg, nil
}

func serveCmd(g *globals) *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: gateway, admin API and (unless --nats) an embedded NATS JetStream store",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.nodeConfig(&f)
			if err != nil {
				return err
			}
			node.PaceGC(g.env.Getenv, cfg.Logger)
			n := node.New(cfg)
			if err := n.Start(cmd.Context()); err != nil {
				return err
			}
			g.printf("wisp is serving\n  gateway    http://%s\n  admin API  %s\n  token      %s\n", n.GatewayAddr(), n.AdminURL(), filepath.Join(g.dataDir(), node.TokenFile))
			<-cmd.Context().Done()
			g.printf("shutting down\n")
			return n.Shutdown(context.Background())
		},
	}
	f.register(cmd, g)
	return cmd
}
