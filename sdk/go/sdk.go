// Package sdk holds the Go SDK's source files, so that tools such as
// `wisp init --template go` can copy the SDK into a new project. The SDK
// itself is package github.com/wisp-run/wisp/sdk/go/wisp.
package sdk

import "embed"

// Files is this module: go.mod and the wisp package's source.
//
//go:embed go.mod wisp/*.go
var Files embed.FS
