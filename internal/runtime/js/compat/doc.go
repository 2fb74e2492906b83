// Package compat is the differential suite of the JS runtime: a corpus of
// realistic workers (workers/), the requests to send each one, and the
// responses Cloudflare's workerd gave them. TestRecord asks workerd again
// and rewrites the expectations (CI does, so they stay honest);
// TestCompat runs the same sources in wisp and requires the same status,
// headers and body. The package has no code outside its tests.
package compat
