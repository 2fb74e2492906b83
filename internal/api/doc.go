// Package api owns the admin API: JSON over HTTP under /v1, bearer-token
// authentication (constant-time), the wire types the CLI client shares,
// and the one function that turns errors into JSON responses. The node
// implements Control; this package only speaks HTTP.
package api
