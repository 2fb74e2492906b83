package store

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Connect opens another connection to the same NATS server, for traffic
// that must not queue behind the main connection's (large object
// transfers, which also need their own slow-consumer budget). The caller
// closes it.
func (s *Store) Connect(name string) (*nats.Conn, error) {
	var nc *nats.Conn
	var err error
	if s.srv != nil {
		nc, err = nats.Connect("", nats.InProcessServer(s.srv), nats.Name(name))
	} else {
		nc, err = nats.Connect(s.url, nats.Name(name), nats.MaxReconnects(-1))
	}
	if err != nil {
		return nil, fmt.Errorf("open a second NATS connection (%s): %w", name, err)
	}
	return nc, nil
}
