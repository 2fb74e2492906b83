package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wisp-run/wisp/internal/node"
)

// The density section's second baseline: a raw net/http server whose heap
// grows as a node's does while 1,000 services answer their first request.
// Each first request on a node builds a JS instance (about 100 KB of
// pointer-dense heap, kept until the keep-alive ends), so the node's
// collector runs a mark phase or two during the walk. This server does
// the same with no wisp code at all: it starts with a live heap the size
// of an idle node's, paces its collector as a node does (node.PaceGC),
// and keeps growKB of small linked objects per request to /grow. Timing
// it beside the node shows which part of the slowest first requests the
// Go runtime and this machine would cost any Go server.

const (
	growKB     = 100 // kept per /grow request (a warm JS instance: ~103 KB)
	growBaseMB = 30  // live heap at the start (an idle node with 1,000 services: 28–30 MB)
)

// growNode is a small heap object with pointers, as goja's are.
type growNode struct {
	next, other *growNode
	pad         [6]uint64
}

// growChunk allocates kb KB of growNodes linked to each other.
func growChunk(kb int) []*growNode {
	n := kb << 10 / 64
	c := make([]*growNode, n)
	for i := range c {
		c[i] = &growNode{}
		if i > 0 {
			c[i].next = c[i-1]
			c[i-1].other = c[i]
		}
	}
	return c
}

// growServer is rawGrowServer's handler and the heap it keeps.
type growServer struct {
	mu   sync.Mutex
	kept [][]*growNode
}

// newGrowServer starts with baseMB MB of live heap.
func newGrowServer(baseMB int) *growServer {
	g := &growServer{}
	for range baseMB << 10 / growKB {
		g.kept = append(g.kept, growChunk(growKB))
	}
	return g
}

// keptKB is how much the server keeps.
func (g *growServer) keptKB() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.kept) * growKB
}

// handler serves /grow (keeps growKB KB, answers how long its handler
// took in X-Handler-Ns) and /hello.
func (g *growServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		c := growChunk(growKB)
		g.mu.Lock()
		g.kept = append(g.kept, c)
		g.mu.Unlock()
		w.Header().Set("X-Handler-Ns", strconv.FormatInt(int64(time.Since(t0)), 10))
		io.WriteString(w, "grown")
	})
	mux.HandleFunc("/hello", rawHello)
	return mux
}

// rawGrowServer serves a growServer with growBaseMB MB kept on addr, its
// collector paced as a node's.
func rawGrowServer(addr string) {
	node.PaceGC(os.Getenv, slog.New(slog.DiscardHandler))
	serveAnnounced(addr, newGrowServer(growBaseMB).handler())
}

// growWalk is the density walk against rawGrowServer: n pairs of a /grow
// request (a first request) and a /hello (the second), one connection.
type growWalk struct {
	first, second []time.Duration // client-measured, sorted
	handler       []time.Duration // /grow's handler time, sorted
}

func walkGrowServer(self string, n int) (*growWalk, error) {
	cmd, addr, err := startServer(self, "-serve-raw-grow", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer stopServer(cmd)
	urls := make([]string, 0, 2*n)
	for range n {
		urls = append(urls, "http://"+addr+"/grow", "http://"+addr+"/hello")
	}
	vs, err := timeVisitsKeeping(urls, "x-handler-ns:")
	if err != nil {
		return nil, err
	}
	var g growWalk
	for i := 0; i < len(vs); i += 2 {
		g.first = append(g.first, vs[i].client)
		g.second = append(g.second, vs[i+1].client)
		ns, err := strconv.ParseInt(vs[i].requestID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("the growing raw server's X-Handler-Ns %q: %w", vs[i].requestID, err)
		}
		g.handler = append(g.handler, time.Duration(ns))
	}
	sortDur(g.first)
	sortDur(g.second)
	sortDur(g.handler)
	return &g, nil
}
