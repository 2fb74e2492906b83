#!/bin/sh
# Rebuilds hello.wasm with Debian's clang and wasi-libc:
#   apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wl,--strip-all -o hello.wasm src/hello.c
