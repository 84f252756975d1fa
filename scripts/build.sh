#!/usr/bin/env bash
# Configures and builds one flavour: `release` (default) into build/, `asan` into build-asan/,
# `fuzz` (clang-14, libFuzzer + ASan + UBSan, the fuzz targets only) into build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$HOME/go/bin:$PATH"
# ccache shares compiled objects between clones at different paths (relative to this folder).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
flavour=${1:-release}
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DWWP_SANITIZE=ON -DWWP_BUILD_BENCH=OFF) ;;
  fuzz) dir=build-fuzz
    args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" -DWWP_BUILD_FUZZ=ON -DCMAKE_C_COMPILER=clang-14
          -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
