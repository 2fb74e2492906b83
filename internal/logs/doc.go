// Package logs owns what services write: console output and uncaught
// errors, captured per invocation with service, version, request id, level
// and time, and fanned out to whoever follows them (wisp dev's terminal,
// `wisp logs -f`).
package logs
