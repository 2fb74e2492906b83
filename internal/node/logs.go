package node

import (
	"context"

	"github.com/wisp-run/wisp/internal/logs"
)

// Logs reads a service's stored log entries (see logs.Store.Read). The
// service need not exist any more: its entries stay until retention drops
// them.
func (n *Node) Logs(ctx context.Context, q logs.Query, fn func(logs.Entry) error) error {
	return n.logStore.Read(ctx, q, fn)
}
