// Package js owns the JavaScript runtime: Cloudflare Workers module syntax
// (`export default { fetch }`) on goja. A prelude written in JS (prelude/)
// provides the Web APIs over a few Go host functions; each instance has
// its own event loop run on the goroutine serving the request, and the
// request's deadline interrupts the VM.
package js
