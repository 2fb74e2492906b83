// Package node owns one running wisp node: it opens the store, watches the
// registry and keeps the active version of every service loaded (with its
// instance pool), swaps the route table atomically on every change, serves
// the gateway and the admin API, and implements the admin operations
// (deploy, rollback, remove, invoke) on top of the registry. PaceGC sets
// the garbage collector of a process that runs a node (the commands call
// it; the library itself leaves process-wide settings alone).
package node
