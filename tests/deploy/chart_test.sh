#!/usr/bin/env bash
# The Helm chart (deploy/helm/wasm-workflows-plugin) and the plain manifests (deploy/kustomize):
# `helm lint`, `helm template` with several value sets, bad values refused with a clear message,
# the plain manifests equal to the chart's default rendering (WWP_UPDATE_MANIFESTS=1 rewrites
# them), and every rendering checked with Argo's and Kubernetes' own Go types
# (tests/argo/chart_test.go: the controller accepts the ExecutorPlugin ConfigMap, and it is
# byte for byte what `argo executor-plugin build` writes).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
chart="$repo/deploy/helm/wasm-workflows-plugin"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
helm=$("$repo/tests/deploy/ensure-helm.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$helm" lint --strict "$chart"
"$helm" lint --strict "$chart" --set cache.type=persistentVolumeClaim --set cache.persistentVolumeClaim=c

render() {  # render NAME [helm args...]
  local name=$1; shift
  "$helm" template wasm-workflows-plugin "$chart" --namespace argo "$@" > "$work/rendered/$name.yaml"
}
mkdir "$work/rendered"
render default
render hostpath-modules-registry --set cache.type=hostPath --set modules.configMap=wasm-modules \
  --set registry.username=robot --set registry.password=secret --set 'workflowNamespaces={team-a,team-b}'
render pvc-no-discovery --set cache.type=persistentVolumeClaim --set cache.persistentVolumeClaim=wasm-cache \
  --set artifactRepository.discover=false --set healthPort=0 --set image.tag=v9.9.9
render emptydir-env --set cache.type=emptyDir --set modules.persistentVolumeClaim=modules \
  --set artifactRepository.credentialsSecret=s3-creds --set registry.existingSecret=regcred \
  --set 'registry.insecureRegistries={registry.local:5000}' --set flags.http-disabled=true \
  --set 'extraEnv[0].name=TZ' --set 'extraEnv[0].value=UTC'
render distributed-no-discovery --set distributed.enabled=true --set artifactRepository.discover=false \
  --set 'flags.pod-node-selector=pool=wasm'

# What the values change, checked on the rendering (the Go test checks the shapes).
grep -q 'image: ghcr.io/example/wasm-workflows-plugin:v9.9.9' "$work/rendered/pvc-no-discovery.yaml" ||
  fail "image.tag not applied"
grep -q 'sidecar.automountServiceAccountToken: "false"' "$work/rendered/pvc-no-discovery.yaml" ||
  fail "no discovery still mounts a token"
! grep -q 'name: wasm-executor-plugin-controller-config' "$work/rendered/pvc-no-discovery.yaml" || fail "discovery RBAC without discovery"
(( $(grep -cx 'kind: ServiceAccount' "$work/rendered/hostpath-modules-registry.yaml") == 2 )) ||
  fail "one ServiceAccount per workflow namespace"
grep -q -- '- --insecure-oci-registries=registry.local:5000' "$work/rendered/emptydir-env.yaml" || fail "insecure registries"
grep -q -- '- --http-disabled=true' "$work/rendered/emptydir-env.yaml" || fail "flags"
grep -q 'readOnlyRootFilesystem: true' "$work/rendered/emptydir-env.yaml" || fail "read-only root with volumes"
grep -q 'workflowtasksets/status' "$work/rendered/default.yaml" || fail "no RBAC for Argo's agent"
d="$work/rendered/distributed-no-discovery.yaml"
grep -q -- '- --mode=distributed' "$d" && grep -q -- '- --pod-image=ghcr.io/example/wasm-workflows-plugin:' "$d" ||
  fail "distributed.enabled does not set the mode and the pod image"
grep -q 'sidecar.automountServiceAccountToken: "true"' "$d" || fail "distributed mode needs the token"
grep -q 'resources: \[pods/log\]' "$d" && grep -q 'resources: \[workflows\]' "$d" ||
  fail "distributed mode's RBAC"
! grep -q 'resourceNames: \[artifact-repositories\]' "$d" || fail "discovery RBAC without discovery"
! grep -q -- '--mode=distributed' "$work/rendered/default.yaml" || fail "distributed by default"

# Bad values fail the rendering with a message naming the value.
if out=$("$helm" template x "$chart" --set cache.type=tmpfs 2>&1); then fail "cache.type=tmpfs accepted"; fi
grep -q 'cache.type "tmpfs"' <<<"$out" || fail "unclear message: $out"
if out=$("$helm" template x "$chart" --set cache.type=persistentVolumeClaim 2>&1); then fail "claim without name accepted"; fi
grep -q 'cache.persistentVolumeClaim' <<<"$out" || fail "unclear message: $out"

# The plain manifests are the chart's default rendering without Helm's bookkeeping.
plain="$repo/deploy/kustomize/install.yaml"
{
  echo "# Generated from deploy/helm/wasm-workflows-plugin with its default values (namespace argo)"
  echo "# by tests/deploy/chart_test.sh (WWP_UPDATE_MANIFESTS=1). Do not edit; see kustomization.yaml."
  grep -v -e '^# Source:' -e 'app.kubernetes.io/managed-by: Helm' -e 'helm.sh/chart:' \
    -e 'app.kubernetes.io/instance:' "$work/rendered/default.yaml"
} > "$work/install.yaml"
if [[ ${WWP_UPDATE_MANIFESTS:-} == 1 ]]; then cp "$work/install.yaml" "$plain"; fi
diff -u "$plain" "$work/install.yaml" || fail "$plain is not the chart's default rendering (WWP_UPDATE_MANIFESTS=1 rewrites it)"
grep -qx -- '  - install.yaml' "$repo/deploy/kustomize/kustomization.yaml" || fail "kustomization.yaml lacks install.yaml"
cp "$plain" "$work/rendered/kustomize-install.yaml"

cd "$repo/tests/argo"
if ! out=$(WWP_CHART_RENDERED="$work/rendered" GOFLAGS=-mod=mod go test -count=1 -run 'TestRenderedChart' -v . 2>&1); then
  echo "$out" >&2
  fail "Argo's or Kubernetes' code rejects a rendering (above)"
fi
grep -E '^\s*--- ' <<<"$out"
echo "chart test: OK ($(ls "$work/rendered" | wc -l) renderings)"
