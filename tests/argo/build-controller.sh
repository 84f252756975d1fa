#!/usr/bin/env bash
# Builds the Argo parts the end-to-end test (controller_e2e_test.sh) runs on the real node: Argo's
# workflow-controller v4.0.5 (`go install` from the Go module proxy, with Argo's own go.mod) and
# the argoexec stand-in of cmd/argoexec (Argo's AgentExecutor behind `argoexec agent init|main`;
# Argo's own argoexec does not build from the proxy). Cached under
# ~/.cache/wasm-workflows-plugin/argo-<version>/, keyed by version and the stand-in's sources:
# ~3 min each on a warm Go cache, instant after. Prints the cache directory on stdout.
set -euo pipefail

ARGO_VERSION=v4.0.5
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${WWP_ARGO_BIN_DIR:-$HOME/.cache/wasm-workflows-plugin/argo-$ARGO_VERSION}"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
mkdir -p "$OUT"
exec 9>"$OUT.lock"
flock 9

# Relative names: the stamp must not depend on where the clone lives.
stamp="$ARGO_VERSION $(cd "$HERE" && sha256sum go.mod go.sum cmd/argoexec/main.go | sha256sum | cut -c1-16)"
if [[ -x "$OUT/workflow-controller" && -x "$OUT/argoexec" &&
  "$(cat "$OUT/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "$OUT"
  exit 0
fi

echo "argo: building workflow-controller $ARGO_VERSION and the argoexec stand-in into $OUT (once)" >&2
if [[ ! -x "$OUT/workflow-controller" ]]; then
  GOBIN="$OUT" go install -p 2 -trimpath -ldflags "-s -w" \
    "github.com/argoproj/argo-workflows/v4/cmd/workflow-controller@$ARGO_VERSION"
fi
# With cgo as the tests/argo harness builds (a static CGO_ENABLED=0 build recompiles every
# package: ~3 min instead of ~1); its image carries the libc `ldd` lists.
(cd "$HERE" && GOFLAGS=-mod=mod go build -p 2 -trimpath -ldflags "-s -w" \
  -o "$OUT/argoexec.tmp" ./cmd/argoexec)
mv "$OUT/argoexec.tmp" "$OUT/argoexec"
echo "$stamp" >"$OUT/.stamp"
echo "$OUT"
