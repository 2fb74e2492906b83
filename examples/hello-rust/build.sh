#!/bin/sh
# Rebuilds hello.wasm with Debian's Rust and its WASI standard library:
#   apt-get install rustc libstd-rust-dev-wasm32
set -eu
cd "$(dirname "$0")"
/usr/bin/rustc --edition 2021 --target wasm32-wasi -C opt-level=2 -C strip=symbols -o hello.wasm main.rs
