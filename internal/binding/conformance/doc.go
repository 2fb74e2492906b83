// Package conformance holds the binding conformance suite: one test per
// binding (KV, buckets, service bindings, outbound fetch, secrets), run
// against a real node with its embedded JetStream, for every runtime that
// has a guest. A guest is a small service that performs binding
// operations the suite asks for (POST /rpc {"op": ...}); runners build
// one per runtime (testdata/js for JavaScript; the Go wasm guest joins
// when the wasm runtime's ABI carries bindings), so every runtime is held
// to the same behaviour.
package conformance
