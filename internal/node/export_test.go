package node

import "github.com/wisp-run/wisp/internal/runtime"

// SetEngine replaces the runtime for a kind of service; tests use it to
// give JS services event handlers written in Go.
func SetEngine(n *Node, kind string, e runtime.Engine) { n.engines[kind] = e }
