// Package client owns talking to a node's admin API from the CLI (or any
// Go program): typed calls, bearer token, and the API's JSON errors turned
// back into Go errors with their status and code.
package client
