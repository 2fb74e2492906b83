package manifest

import (
	"encoding/json"
	"fmt"
	"sort"
)

// FileName is the name of a service's manifest inside its folder.
const FileName = "wisp.toml"

// Defaults applied to [limits] keys the manifest leaves out.
const (
	DefaultMemoryMB     = 128
	DefaultTimeoutMS    = 30_000
	DefaultMaxInstances = 10
)

// Manifest is one service's wisp.toml, parsed and validated. Keys follow
// wrangler.toml where the concept is the same.
type Manifest struct {
	Name               string           `toml:"name" json:"name"`
	Main               string           `toml:"main" json:"main,omitempty"`
	Wasm               string           `toml:"wasm" json:"wasm,omitempty"`
	CompatibilityDate  string           `toml:"compatibility_date" json:"compatibility_date,omitempty"`
	CompatibilityFlags []string         `toml:"compatibility_flags" json:"compatibility_flags,omitempty"`
	Routes             []string         `toml:"routes" json:"routes,omitempty"`
	Build              *Build           `toml:"build" json:"build,omitempty"`
	Vars               map[string]any   `toml:"vars" json:"vars,omitempty"`
	KVNamespaces       []KVNamespace    `toml:"kv_namespaces" json:"kv_namespaces,omitempty"`
	Buckets            []Bucket         `toml:"buckets" json:"buckets,omitempty"`
	R2Buckets          []Bucket         `toml:"r2_buckets" json:"-"`
	Services           []ServiceBinding `toml:"services" json:"services,omitempty"`
	Queues             Queues           `toml:"queues" json:"queues"`
	Triggers           Triggers         `toml:"triggers" json:"triggers"`
	Limits             Limits           `toml:"limits" json:"limits"`
	Outbound           Outbound         `toml:"outbound" json:"outbound"`
}

// Build is the [build] table: a command run in the service folder before
// the code is collected (for example to compile a .wasm).
type Build struct {
	Command string `toml:"command" json:"command"`
	Cwd     string `toml:"cwd" json:"cwd,omitempty"`
}

// KVNamespace is one [[kv_namespaces]] entry. Without ID the namespace is
// private to the service; with one, every service naming that ID shares it.
type KVNamespace struct {
	Binding string `toml:"binding" json:"binding"`
	ID      string `toml:"id" json:"id,omitempty"`
}

// Bucket is one [[buckets]] (or wrangler's [[r2_buckets]]) entry.
type Bucket struct {
	Binding    string `toml:"binding" json:"binding"`
	BucketName string `toml:"bucket_name" json:"bucket_name,omitempty"`
}

// ServiceBinding is one [[services]] entry: env.BINDING calls Service.
type ServiceBinding struct {
	Binding string `toml:"binding" json:"binding"`
	Service string `toml:"service" json:"service"`
}

// Queues holds [[queues.producers]] and [[queues.consumers]].
type Queues struct {
	Producers []QueueProducer `toml:"producers" json:"producers,omitempty"`
	Consumers []QueueConsumer `toml:"consumers" json:"consumers,omitempty"`
}

// QueueProducer binds env.BINDING to send to Queue.
type QueueProducer struct {
	Binding       string `toml:"binding" json:"binding"`
	Queue         string `toml:"queue" json:"queue"`
	DeliveryDelay int    `toml:"delivery_delay" json:"delivery_delay,omitempty"`
}

// QueueConsumer makes the service's queue() handler consume Queue.
type QueueConsumer struct {
	Queue           string `toml:"queue" json:"queue"`
	MaxBatchSize    int    `toml:"max_batch_size" json:"max_batch_size,omitempty"`
	MaxBatchTimeout int    `toml:"max_batch_timeout" json:"max_batch_timeout,omitempty"`
	MaxRetries      *int   `toml:"max_retries" json:"max_retries,omitempty"`
	RetryDelay      int    `toml:"retry_delay" json:"retry_delay,omitempty"`
	DeadLetterQueue string `toml:"dead_letter_queue" json:"dead_letter_queue,omitempty"`
	MaxConcurrency  int    `toml:"max_concurrency" json:"max_concurrency,omitempty"`
}

// Triggers is the [triggers] table.
type Triggers struct {
	Crons []string `toml:"crons" json:"crons,omitempty"`
}

// Limits is the [limits] table. Zero values are replaced by defaults when
// the manifest is parsed, except MinInstances whose default is zero.
type Limits struct {
	MemoryMB     int `toml:"memory_mb" json:"memory_mb"`
	TimeoutMS    int `toml:"timeout_ms" json:"timeout_ms"`
	MinInstances int `toml:"min_instances" json:"min_instances"`
	MaxInstances int `toml:"max_instances" json:"max_instances"`
	// KeepAliveMS is how long an idle instance above MinInstances lives;
	// 0 means the node's default. omitempty keeps the canonical form (and
	// so the version ids) of manifests without it unchanged.
	KeepAliveMS int `toml:"keep_alive_ms,omitzero" json:"keep_alive_ms,omitempty"`
}

// Outbound is the [outbound] table: which hosts fetch() may reach.
type Outbound struct {
	AllowedHosts []string `toml:"allowed_hosts" json:"allowed_hosts,omitempty"`
}

// Kind says which runtime runs the service: "js" or "wasm".
func (m *Manifest) Kind() string {
	if m.Wasm != "" {
		return "wasm"
	}
	return "js"
}

// Features lists the manifest's top-level capabilities in use, by manifest
// key (for example "kv_namespaces" or "triggers.crons"), sorted. A node
// rejects a deploy that uses a feature it does not implement.
func (m *Manifest) Features() []string {
	var f []string
	add := func(cond bool, name string) {
		if cond {
			f = append(f, name)
		}
	}
	add(m.Wasm != "", "wasm")
	add(len(m.KVNamespaces) > 0, "kv_namespaces")
	add(len(m.Buckets) > 0, "buckets")
	add(len(m.Services) > 0, "services")
	add(len(m.Queues.Producers) > 0, "queues.producers")
	add(len(m.Queues.Consumers) > 0, "queues.consumers")
	add(len(m.Triggers.Crons) > 0, "triggers.crons")
	add(len(m.Outbound.AllowedHosts) > 0, "outbound.allowed_hosts")
	sort.Strings(f)
	return f
}

// Canonical is the manifest encoded deterministically (JSON, sorted map
// keys). Two manifests that mean the same thing have the same Canonical
// bytes, whatever their comments and key order.
func (m *Manifest) Canonical() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// Every field is a plain string, number, bool, slice or map of
		// TOML values: Marshal cannot fail on a validated manifest.
		panic(fmt.Sprintf("manifest: canonical encoding: %v", err))
	}
	return b
}
