// Package dispatch owns running invocations on instances: per service
// version, a pool that reuses idle instances, starts new ones on demand up
// to the version's max_instances, makes callers wait (bounded) beyond
// that, and throws away an instance whose guest trapped or overran.
package dispatch
