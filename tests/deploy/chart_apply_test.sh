#!/usr/bin/env bash
# The chart's renderings applied to a real kube-apiserver 1.37 (tests/k8s: kine on SQLite, the
# controller-manager filling in service-account tokens): every object is accepted, the stored
# ExecutorPlugin ConfigMap is what Argo's controller code turns into the sidecar, and the token
# Secret the controller would mount gets its token (tests/argo/chart_test.go).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
chart="$repo/deploy/helm/wasm-workflows-plugin"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
helm=$("$repo/tests/deploy/ensure-helm.sh")
work=$(mktemp -d)
trap '"$repo/tests/k8s/cluster.sh" down "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir "$work/rendered"
"$helm" template wasm-workflows-plugin "$chart" --namespace argo > "$work/rendered/default.yaml"
"$helm" template wasm-workflows-plugin "$chart" --namespace argo --set cache.type=hostPath \
  --set modules.configMap=wasm-modules --set registry.username=robot --set registry.password=secret \
  --set 'workflowNamespaces={team-a,team-b}' > "$work/rendered/hostpath-registry-namespaces.yaml"
cp "$repo/deploy/kustomize/install.yaml" "$work/rendered/kustomize-install.yaml"

"$repo/tests/k8s/cluster.sh" up "$work/cluster"
set -a; source "$work/cluster/env"; set +a
cd "$repo/tests/argo"
WWP_CHART_RENDERED="$work/rendered" GOFLAGS=-mod=mod go test -count=1 -run 'TestChartAcceptedByAPIServer' -v . 2>&1 |
  tee "$work/go-test.log" | grep -E '^\s*(--- |ok|FAIL|\s+chart_test)'
grep -q '^ok' "$work/go-test.log" || { cat "$work/go-test.log" >&2; echo "FAIL: the API server or Argo's code refused a rendering" >&2; exit 1; }
echo "chart apply test: OK"
