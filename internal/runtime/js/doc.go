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
// For the bindings (bindings.go, prelude/80_bindings.js): in.async runs
// Go work off the loop and settles a promise on it; in.newResponse-like
// helpers are responseFromHTTP and newIncomingRequest; request bodies are
// read with in.consume; in.invocationContext is the invocation's context.
package js
