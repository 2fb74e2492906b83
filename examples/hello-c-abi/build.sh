#!/bin/sh
# Rebuilds hello.wasm, a WASI reactor, with Debian's clang and wasi-libc:
#   apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wall -Werror -Wl,--strip-all -o hello.wasm src/hello.c
