package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
)

// observePeer runs the hello worker on three more nodes: one configured
// like the default node ("wisp JS hello", which traces and keeps every
// request), to show how far two identical targets differ in a run; one
// without tracing (--trace-sample 0); and one without any observability
// (metrics, traces, usage: --no-observe). The throughput table then shows
// what observability costs, in the same rounds.
func observePeer(_ context.Context, e *env) ([]target, error) {
	var out []target
	for _, v := range []struct {
		name, dir string
		flags     []string
	}{
		{"wisp JS hello, 2nd node", "data-again", nil}, // the same as "wisp JS hello": the noise
		{"wisp JS hello, no tracing", "data-notrace", []string{"--trace-sample", "0"}},
		{"wisp JS hello, no observe", "data-noobserve", []string{"--no-observe"}},
	} {
		n, err := e.startWisp(filepath.Join(e.work, v.dir), v.flags...)
		if err != nil {
			return nil, err
		}
		e.cleanup(n.stop)
		lim := fmt.Sprintf("max_instances = %d", runtime.NumCPU()*2)
		if err := e.deploy(n, jsService("hello", "/hello", helloWorker, lim)); err != nil {
			return nil, err
		}
		out = append(out, target{name: v.name, workload: "hello", url: "http://" + n.gateway + "/hello", pid: n.pid()})
	}
	return out, nil
}
