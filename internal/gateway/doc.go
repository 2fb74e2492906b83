// Package gateway owns the HTTP front door: it matches each request
// against the route table, reads the body (bounded) before an instance is
// taken, runs the invocation with the service's deadline, and turns guest
// failures into 5xx responses that carry the request id. The admin API's
// invoke endpoint runs services through the same path.
package gateway
