#!/usr/bin/env bash
# Prints the path of helm HELM_VERSION, building it from the Go module proxy the first time
# (about 2 minutes on 2 cores) into ~/.cache/wasm-workflows-plugin/helm-<version>/. Keyed by
# version: a second run only prints the path.
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.22.0}
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
dir="$HOME/.cache/wasm-workflows-plugin/helm-$HELM_VERSION"
if ! [[ -x "$dir/helm" ]]; then
  echo "ensure-helm: building helm $HELM_VERSION from the Go module proxy" >&2
  mkdir -p "$dir"
  # Concurrent first runs (CTest -j) build once: the second waits for the first.
  exec 9>"$dir.lock"
  flock 9
  if ! [[ -x "$dir/helm" ]]; then
    GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    mv "$dir.tmp/helm" "$dir/helm"
    rmdir "$dir.tmp"
  fi
fi
echo "$dir/helm"
