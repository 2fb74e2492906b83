// Package binding owns the capabilities a service is handed by name in its
// manifest (env.NAME): the Go interfaces every runtime (JS, wasm) exposes
// to guest code, and the Env that collects one version's bindings. A
// service can reach only what its Env holds: no files, no sockets, no
// other service's data. Implementations (JetStream KV, object store,
// in-process service calls, queues, outbound fetch) live in subpackages.
package binding
