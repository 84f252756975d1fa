#!/usr/bin/env bash
# Builds Jaeger all-in-one (the OTLP collector + query API the tracing test sends spans to) from
# the Go module proxy, once: the binary is kept under ~/.cache/wasm-workflows-plugin, keyed by
# version, so later runs return at once. Prints the binary's path. About 4 minutes on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1 == "github.com/jaegertracing/jaeger" {print $2; exit}' "$here/go.mod")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/wasm-workflows-plugin/jaeger-$version"
binary="$cache/jaeger"
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
mkdir -p "$cache"
echo "building jaeger $version into $cache (once)" >&2
# A lock so concurrent first runs (ctest -j) build it once.
exec 9>"$cache/.lock"
flock 9
if [[ ! -x "$binary" ]]; then
  (cd "$here" && go build -o "$binary.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$binary.tmp" "$binary"
fi
echo "$binary"
