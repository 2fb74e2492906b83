// Package wasm owns the WebAssembly runtime: wazero with WASI preview 1
// (no filesystem, no sockets; clocks and random allowed), compiled code
// cached on disk per node, and two ways for a module to serve requests:
// CGI (WAGI-compatible: any WASI program, one fresh instance per request)
// and the wisp ABI (a reactor that imports host module "wisp", handles many
// requests per instance and reaches its bindings through host functions;
// see docs/abi.md). Every guest pointer is bounds-checked; a bad one traps
// the guest, never the host.
package wasm
