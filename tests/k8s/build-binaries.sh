#!/usr/bin/env bash
# Builds the real Kubernetes parts the tests in tests/k8s run: kube-apiserver, kube-scheduler,
# kube-controller-manager and kubelet from the Go module in tests/k8s/cluster, and kine (etcd API
# over SQLite). Cached under
# ~/.cache/wasm-workflows-plugin/k8s-<version>/ keyed by version: ~15 min on a cold machine (2
# cores), instant after. Prints the cache directory on stdout.
set -euo pipefail

K8S_VERSION=v1.37.2
KINE_VERSION=v0.17.5
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${WWP_K8S_BIN_DIR:-$HOME/.cache/wasm-workflows-plugin/k8s-$K8S_VERSION}"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
mkdir -p "$OUT"

# One builder at a time: a second test run waits for the first instead of building again.
exec 9>"$OUT.lock"
flock 9

# Relative names: the stamp must not depend on where the clone lives (CI clones afresh).
stamp="$K8S_VERSION kine-$KINE_VERSION $(cd "$HERE" && sha256sum cluster/go.mod cluster/go.sum \
  cluster/cmd/*/main.go | sha256sum | cut -c1-16)"
COMPONENTS=(kube-apiserver kube-scheduler kube-controller-manager kubelet)
have_all=1
for c in "${COMPONENTS[@]}" kine; do [[ -x "$OUT/$c" ]] || have_all=0; done
if ((have_all)) &&
  [[ "$(cat "$OUT/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "$OUT"
  exit 0
fi

echo "k8s: building ${COMPONENTS[*]} $K8S_VERSION and kine $KINE_VERSION into $OUT (once, ~15 min cold)" >&2
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
for c in "${COMPONENTS[@]}"; do
  (cd "$HERE/cluster" && go build -p 2 -trimpath -ldflags "$ldflags" -o "$OUT/$c.tmp" "./cmd/$c")
  mv "$OUT/$c.tmp" "$OUT/$c"
done
GOBIN="$OUT" go install -p 2 -trimpath -ldflags "-s -w" "github.com/k3s-io/kine@$KINE_VERSION"
echo "$stamp" >"$OUT/.stamp"
echo "$OUT"
