// Package js owns the JavaScript runtime: Cloudflare Workers module syntax
// (`export default { fetch, scheduled, queue }`, or a WorkerEntrypoint
// class) on goja.
//
// The Web APIs are made on first use. The hot classes (Request, Response,
// Headers, URL, URLSearchParams, Blob, File, FormData, TextEncoder,
// TextDecoder, crypto) are Go structs behind goja dynamic objects
// (class.go); streams, events, AbortController, console and
// structuredClone are JS programs (prelude/) run in a runtime the first
// time one of their globals is named (globals.go). Each instance has its
// own event loop (loop.go) run on the goroutine serving the invocation;
// the invocation's deadline interrupts the VM, and ctx.waitUntil work goes
// on after the response (Linger). Built-ins whose cost a size argument
// sets are guarded (guards.go), and a memory governor attributes the
// sampled heap profile to instances and stops those over their limit
// (memory.go).
//
// The bindings (bindings.go, prelude/80_bindings.js) use the public Web
// APIs and their own off-loop helper (in.async, with in.ctx, nil at the
// worker's top level). Go code that needs more can use in.offLoop (Go work
// settling a promise on the loop), responseFromHTTP (a Response streaming
// a Go body) and in.consume (read a body).
package js
