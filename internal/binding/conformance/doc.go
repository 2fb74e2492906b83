// Package conformance holds the binding conformance suite: one test per
// binding (KV, buckets, service bindings, outbound fetch, secrets), run
// against a real node with its embedded JetStream, for every runtime that
// has a guest. A guest is a small service that performs binding
// operations the suite asks for (POST /rpc {"op": ...}); runners build
// one per runtime, so every runtime is held to the same behaviour:
//
//   - js: testdata/js/index.js on the JavaScript runtime (env.X with the
//     Workers signatures);
//   - go-wasm: testdata/go, a Go program on the wisp Go SDK, built for
//     wasip1 once per test process (wasmtest.BuildGo) and run on the wasm
//     runtime through the wisp ABI. It takes the same operations with the
//     same Workers-shaped arguments and translates them to SDK calls.
//
// The wasm guest's compiled code goes to wasmtest.CacheDir, which .ci/run
// warms without the race detector before the race run.
package conformance
