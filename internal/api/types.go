package api

import "time"

// ServiceInfo describes a service in listings.
type ServiceInfo struct {
	Name     string    `json:"name"`
	Version  string    `json:"version"` // active version
	Kind     string    `json:"kind"`
	Routes   []string  `json:"routes"`
	Versions int       `json:"versions"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// NextRun is the next cron tick of the active version, if it has crons.
	NextRun *time.Time `json:"next_run,omitempty"`
	// Pool is the active version's instance pool on the node that answered;
	// absent when the version is not loaded there.
	Pool *PoolInfo `json:"pool,omitempty"`
}

// PoolInfo describes a service's instance pool on one node: gauges now and
// counters since the version became active there.
type PoolInfo struct {
	Instances   int    `json:"instances"` // alive (idle + busy)
	Idle        int    `json:"idle"`
	Busy        int    `json:"busy"`
	Waiting     int    `json:"waiting"` // callers queued for an instance
	Min         int    `json:"min"`
	Max         int    `json:"max"`
	Invocations uint64 `json:"invocations"`
	ColdStarts  uint64 `json:"cold_starts"` // instances started for a request that found none idle
	Prewarmed   uint64 `json:"prewarmed"`
	Discarded   uint64 `json:"discarded"`
	Recycled    uint64 `json:"recycled"`
	Expired     uint64 `json:"expired"` // stopped by the keep-alive
	Evicted     uint64 `json:"evicted"` // stopped to give budget to another service
	Rejected    uint64 `json:"rejected"`
}

// VersionInfo describes one version of a service.
type VersionInfo struct {
	ID       string    `json:"id"`
	Digest   string    `json:"digest"`
	Kind     string    `json:"kind"`
	Routes   []string  `json:"routes"`
	CodeSize int64     `json:"code_size"`
	Created  time.Time `json:"created"`
	Active   bool      `json:"active"`
}

// DeployResult is the answer to a deploy or a rollback.
type DeployResult struct {
	Service  string   `json:"service"`
	Version  string   `json:"version"`
	Previous string   `json:"previous,omitempty"`
	Status   string   `json:"status"` // "deployed", "unchanged" or "rolled back"
	Routes   []string `json:"routes"`
	Warnings []string `json:"warnings,omitempty"`
}

// Deploy statuses.
const (
	StatusDeployed   = "deployed"
	StatusUnchanged  = "unchanged"
	StatusRolledBack = "rolled back"
)

// DeployRequest is a built service as the client uploads it.
type DeployRequest struct {
	Service      string // from the URL
	ManifestPath string // file name for errors, e.g. "cart/wisp.toml"
	Manifest     []byte // wisp.toml text
	Code         []byte // bundled JS or a .wasm module
}

// RollbackRequest is the body of POST /v1/services/{name}/rollback.
type RollbackRequest struct {
	Version string `json:"version,omitempty"` // empty: the version before the active one
}

// ErrorBody is the JSON every failed call returns.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable code and a sentence for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
