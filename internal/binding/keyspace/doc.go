// Package keyspace owns ordered record spaces on JetStream: many
// independent spaces (one per KV namespace or object bucket) share one
// stream, each under its own subject prefix, so a thousand namespaces cost
// one stream rather than a thousand.
//
// A record is one message: user headers, a body, an optional TTL. Keys are
// arbitrary byte strings, written into the subject one hex token per byte
// followed by a "_" terminator ("ab" becomes "61.62._"), so that:
//   - no key can leave its space: hex tokens never contain a '.', a
//     wildcard or another space's prefix;
//   - a key prefix is a subject prefix, so listing keys under a prefix
//     reads only those keys from the stream;
//   - decoding is exact, so listed keys come back byte for byte.
//
// JetStream delivers records in stream order, not key order. Page sorts:
// it streams the space's records (headers only) and keeps the smallest
// Limit+1 keys after the cursor in a bounded heap, so memory stays bounded
// by the page size whatever the number of keys; the cost is reading every
// key under the prefix once per page.
package keyspace
