package node

import (
	"github.com/wisp-run/wisp/internal/binding"
	"github.com/wisp-run/wisp/internal/manifest"
)

// bindings builds what a version's code can reach from its manifest.
// Only [vars] exist so far; the deploy of any other binding table is
// refused earlier as not supported yet (see checkSupported).
func (n *Node) bindings(m *manifest.Manifest) (*binding.Env, error) {
	env := &binding.Env{Vars: m.Vars}
	n.addQueueBindings(env, m)
	return env, nil
}
