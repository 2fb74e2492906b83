package dispatch

import (
	"github.com/wisp-run/wisp/internal/manifest"
)

// Service is the loaded, active version of a service on this node: what
// the gateway routes to and invokes.
type Service struct {
	Name     string
	Version  string
	Manifest *manifest.Manifest
	Pool     *Pool
	// SecretsRev is the registry's secrets revision (registry.Service
	// SecretsRev) the version's env was built at or after.
	SecretsRev uint64
}
