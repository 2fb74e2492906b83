// Package store owns the connection to NATS JetStream, where every piece of
// platform state lives: the embedded server (one node, data in --data DIR)
// or an external cluster (--nats URL) behind one code path, and the names
// and settings of the buckets the other packages use.
package store
