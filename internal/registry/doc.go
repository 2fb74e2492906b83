// Package registry owns the record of services and their versions, kept in
// JetStream: a KV bucket holds service records (active version, claimed
// routes), immutable version records and route claims; an object store
// holds each version's code. Writes are compare-and-set, so the active
// version changes atomically and two services can never both claim a
// route, on one node or many. Every node watches the service records.
package registry
