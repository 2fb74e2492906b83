#!/bin/sh
# Rebuilds pricing.wasm with the Go toolchain (1.24 or newer).
set -eu
cd "$(dirname "$0")"
GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared -o pricing.wasm .
