// Package gateway owns the HTTP front door: it matches each request
// against the route table, bounds its headers (431) and reads its body
// (bounded in size, 413, and in time, 408) before an instance is taken,
// runs the invocation with the service's deadline (also the response's
// write deadline, so a client that does not read cannot hold an
// instance), and turns guest failures into 5xx responses that carry the
// request id. The admin API's invoke endpoint runs services through the
// same path.
package gateway
