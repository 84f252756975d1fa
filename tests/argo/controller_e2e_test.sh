#!/usr/bin/env bash
# Argo's real workflow-controller v4.0.5 on a real one-node Kubernetes (tests/k8s/cluster.sh) runs
# the example workflows with the plugin installed from its Helm chart, in local and in distributed
# mode (controller_test.go has the checks). This script builds what the test needs (the
# controller and the argoexec stand-in, cached by build-controller.sh; the plugin's image with the
# example modules baked in; the executor image), brings the cluster up, loads the images into the
# node and renders the chart for both modes.
#
#   controller_e2e_test.sh PLUGIN_BINARY MODULE_DIR
set -euo pipefail
binary="$(realpath "$1")" modules="$(realpath "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
work="$(mktemp -d /tmp/wwp-e2e.XXXXXX)"
cleanup() {
  "$repo/tests/k8s/cluster.sh" down "$work/cluster" >/dev/null 2>&1 || true
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "work kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

plugin_image=localhost/wasm-workflows-plugin:e2e
executor_image=localhost/argoexec:v4.0.5-standin

t0=$SECONDS
argo_bin="$("$here/build-controller.sh")"
helm="$("$repo/tests/deploy/ensure-helm.sh")"
echo "--- binaries ready in $((SECONDS - t0)) s" >&2

t0=$SECONDS
"$repo/tests/k8s/cluster.sh" up "$work/cluster" --node
echo "--- cluster up in $((SECONDS - t0)) s" >&2

t0=$SECONDS
"$repo/scripts/build-image.sh" --tag "$plugin_image" --modules "$modules" "$binary" "$work/plugin.tar" >/dev/null
"$repo/tests/k8s/cluster.sh" load "$work/cluster" "$work/plugin.tar"
# The executor image: the stand-in and the libraries `ldd` lists, found on PATH as the
# controller's `argoexec`.
mkdir -p "$work/executor-root/usr/local/bin"
cp "$argo_bin/argoexec" "$work/executor-root/usr/local/bin/"
"$repo/scripts/copy-shared-libs.sh" "$argo_bin/argoexec" "$work/executor-root" >/dev/null
ctr="$(buildah from scratch)"
buildah copy -q "$ctr" "$work/executor-root" / >/dev/null
buildah config --env PATH=/usr/local/bin --entrypoint '["argoexec"]' "$ctr"
buildah commit -q "$ctr" "$executor_image" >/dev/null
buildah rm "$ctr" >/dev/null
rm -f "$work/executor.tar"
buildah push -q "$executor_image" "docker-archive:$work/executor.tar:$executor_image"
"$repo/tests/k8s/cluster.sh" load "$work/cluster" "$work/executor.tar"
echo "--- images built and loaded in $((SECONDS - t0)) s" >&2

# The chart as an operator installs it, with what this node needs: local images, no probes
# against the host network's ports, step pods on the host network tolerating the node's taints.
chart_args=(--namespace argo --set image.repository=localhost/wasm-workflows-plugin
  --set image.tag=e2e --set image.pullPolicy=Never --set healthPort=0
  --set flags.requeue-wait=1s --set flags.requeue-after=1s)
"$helm" template wasm "$repo/deploy/helm/wasm-workflows-plugin" "${chart_args[@]}" >"$work/chart-local.yaml"
"$helm" template wasm "$repo/deploy/helm/wasm-workflows-plugin" "${chart_args[@]}" \
  --set distributed.enabled=true --set flags.pod-host-network=true \
  --set-string 'flags.pod-tolerations=[{"operator":"Exists"}]' \
  --set flags.pod-poll-interval=250ms >"$work/chart-distributed.yaml"

set -a
# shellcheck disable=SC1091
source "$work/cluster/env"
set +a
cd "$here"
export WWP_E2E_WORK="$work" WWP_ARGO_BIN_DIR="$argo_bin" WWP_E2E_EXECUTOR_IMAGE="$executor_image"
WWP_ARGO_MODULE_DIR="$(GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/argoproj/argo-workflows/v4)"
export WWP_ARGO_MODULE_DIR
GOFLAGS=-mod=mod go test -count=1 -timeout 20m -run 'TestControllerRunsExamplesInBothModes' -v . 2>&1 |
  tee "$work/go-test.log" | grep -E '^\s*(--- |ok|FAIL|=== RUN|\s+controller_test)' || true
grep -q '^ok' "$work/go-test.log" || {
  tail -200 "$work/go-test.log" >&2
  echo "FAIL: Argo's controller did not run the examples as expected" >&2
  exit 1
}
echo "controller end-to-end test: OK"
