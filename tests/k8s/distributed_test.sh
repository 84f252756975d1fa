#!/usr/bin/env bash
# Distributed mode on a real one-node Kubernetes (tests/k8s/cluster.sh): the plugin, serving on
# loopback, runs each step as a pod of an image holding the plugin binary; the agent's calls are
# made with curl as Argo's agent makes them (template.execute, again while Running).
#
#   distributed_test.sh BUILD_DIR
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d /tmp/wwp-k8s.XXXXXX)"
CLUSTER="$WORK/c"
IMAGE=localhost/wwp-plugin-test:1
PLUGIN_PIDS=()
failures=0

cleanup() {
  for p in "${PLUGIN_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [[ -z "${MODULE_SERVER:-}" ]] || kill "$MODULE_SERVER" 2>/dev/null || true
  [[ -z "${S3_SERVER:-}" ]] || kill "$S3_SERVER" 2>/dev/null || true
  "$HERE/cluster.sh" down "$CLUSTER" || true
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "--- $*" >&2; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

t0=$SECONDS
"$HERE/cluster.sh" up "$CLUSTER" --node
# shellcheck disable=SC1091
source "$CLUSTER/env"
say "cluster up in $((SECONDS - t0)) s"
k() {  # k METHOD PATH [BODY [CONTENT-TYPE]]: the API as the admin
  local args=(-sS --cacert "$K8S_CA_FILE" -H "Authorization: Bearer $K8S_TOKEN" -X "$1"
    "$K8S_API_URL$2")
  [[ -z "${3:-}" ]] || args+=(-H "Content-Type: ${4:-application/json}" --data-binary "$3")
  curl "${args[@]}"
}

t0=$SECONDS
# The shipped image (scripts/build-image.sh), as an OCI archive containerd imports by its tag.
"$HERE/../../scripts/build-image.sh" --tag "$IMAGE" "$BUILD/wasm-workflows-plugin" "$WORK/image.tar" >/dev/null
"$HERE/cluster.sh" load "$CLUSTER" "$WORK/image.tar"
say "image built and loaded in $((SECONDS - t0)) s"

# Workflows own the step pods: Argo's CRD (its schema is not what is tested here).
k POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions '{
  "apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
  "metadata":{"name":"workflows.argoproj.io"},
  "spec":{"group":"argoproj.io","scope":"Namespaced",
    "names":{"kind":"Workflow","plural":"workflows","singular":"workflow","listKind":"WorkflowList"},
    "versions":[{"name":"v1alpha1","served":true,"storage":true,
      "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}' >/dev/null
for _ in $(seq 100); do
  k GET /apis/argoproj.io/v1alpha1/namespaces/default/workflows 2>/dev/null | grep -q '"items"' && break
  sleep 0.2
done
new_workflow() {  # new_workflow NAME: creates a Workflow, prints its uid
  k POST /apis/argoproj.io/v1alpha1/namespaces/default/workflows \
    '{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"'"$1"'"},"spec":{}}' |
    jq -r .metadata.uid
}

# Modules reach the pods as `url` modules (hostNetwork pods see loopback) pinned by sha256.
MODULE_PORT="$(free_port)"
(cd "$BUILD/modules" && exec python3 -m http.server "$MODULE_PORT" --bind 127.0.0.1) \
  >"$WORK/modules.log" 2>&1 &
MODULE_SERVER=$!
module() {  # module NAME: the plugin.wasm.module object for build/modules/NAME.wasm
  printf '{"url":"http://127.0.0.1:%s/%s.wasm","sha256":"%s"}' "$MODULE_PORT" "$1" \
    "$(sha256sum "$BUILD/modules/$1.wasm" | cut -d' ' -f1)"
}

PLUGIN_PORT="$(free_port)"
echo "$K8S_TOKEN" >"$WORK/token"
start_plugin() {  # start_plugin LOG [extra flags...]
  local log="$1"; shift
  "$BUILD/wasm-workflows-plugin" serve --port "$PLUGIN_PORT" --insecure-no-token \
    --mode distributed --pod-image "$IMAGE" --pod-image-pull-policy Never --pod-host-network \
    --pod-tolerations '[{"operator":"Exists"}]' --pod-start-timeout 20s \
    --kube-api "$K8S_API_URL" --kube-token-file "$WORK/token" \
    --kube-ca-file "$K8S_CA_FILE" --requeue-wait 1s --requeue-after 1s "$@" >"$log" 2>&1 &
  PLUGIN_PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PLUGIN_PORT/healthz" >/dev/null && return; sleep 0.1; done
  cat "$log" >&2
  return 1
}
stop_plugin() {
  local pid="${PLUGIN_PIDS[-1]}"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
}

execute() {  # execute WORKFLOW UID TEMPLATE_JSON: one agent call, prints the reply
  curl -sS -X POST "http://127.0.0.1:$PLUGIN_PORT/api/v1/template.execute" \
    -H "Content-Type: application/json" --data-binary \
    '{"workflow":{"metadata":{"name":"'"$1"'","namespace":"default","uid":"'"$2"'"}},"template":'"$3"'}'
}
run_step() {  # run_step WORKFLOW UID TEMPLATE_JSON [SECONDS]: calls until the node is done
  local reply end=$((SECONDS + ${4:-120}))
  while ((SECONDS < end)); do
    reply="$(execute "$1" "$2" "$3" || true)"
    # Anything but Running ends it (a refusal is plain text, not a node).
    if [[ -n "$reply" ]] && ! jq -e '.node.phase == "Running"' >/dev/null 2>&1 <<<"$reply"; then
      echo "$reply"
      return
    fi
    sleep 0.3
  done
  echo "${reply:-no reply}"
}
step_pods() { k GET "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io/managed-by%3Dwasm-workflows-plugin" | jq '.items | length'; }
step_secrets() { k GET "/api/v1/namespaces/default/secrets?labelSelector=app.kubernetes.io/managed-by%3Dwasm-workflows-plugin" | jq '.items | length'; }
wait_no_pods() {  # deleted pods take a moment (kubelet confirms); prints the count left
  for _ in $(seq 150); do [[ "$(step_pods)" == 0 ]] && break; sleep 0.2; done
  step_pods
}
expect() {  # expect WHAT JQ_FILTER REPLY
  if ! jq -e "$2" >/dev/null 2>&1 <<<"$3"; then fail "$1: expected $2, got $3"; else say "ok: $1"; fi
}

start_plugin "$WORK/plugin-1.log"

say "success: outputs (result, parameters from files) come back from the pod"
uid="$(new_workflow wf-ok)"
tmpl='{"name":"greet","outputs":{"parameters":[{"name":"message","valueFrom":{"path":"/tmp/message.txt"}}]},
  "plugin":{"wasm":{"module":'"$(module write_outputs)"',"args":["from a pod"],"env":{"GREETING":"hi"}}}}'
t0=$(date +%s%N)
reply="$(run_step wf-ok "$uid" "$tmpl")"
t1=$(date +%s%N)
expect "write_outputs succeeded" '.node.phase == "Succeeded"' "$reply"
expect "output parameter from the pod" '.node.outputs.parameters[0].value == "from a pod"' "$reply"
expect "stdout as outputs.result" '.node.outputs.result == "wrote 2 files"' "$reply"
echo "pod step latency: $(((t1 - t0) / 1000000)) ms (write_outputs, first call to result)" >&2
tmpl='{"name":"hello","plugin":{"wasm":{"module":'"$(module hello)"'}}}'
t0=$(date +%s%N)
reply="$(run_step wf-ok "$uid" "$tmpl")"
t1=$(date +%s%N)
expect "hello succeeded" '.node.phase == "Succeeded" and .node.outputs.result == "hello"' "$reply"
echo "pod step latency: $(((t1 - t0) / 1000000)) ms (hello, first call to result)" >&2

say "failure: the module's exit code"
reply="$(run_step wf-ok "$uid" '{"name":"exit3","plugin":{"wasm":{"module":'"$(module exit3)"'}}}')"
expect "exit3 failed" '.node.phase == "Failed" and .node.outputs.exitCode == "3"' "$reply"

say "timeout: limits.timeout stops the module inside the pod"
reply="$(run_step wf-ok "$uid" '{"name":"loop","plugin":{"wasm":{"module":'"$(module loop)"',"limits":{"timeout":"2s"}}}}')"
expect "loop timed out" '.node.phase == "Failed" and (.node.message | test("timeout|timed out|deadline"; "i"))' "$reply"

say "cleanup: pods and request secrets are deleted once their result is read"
expect "no step pods left" '. == 0' "$(wait_no_pods)"
expect "no request secrets left" '. == 0' "$(step_secrets)"

say "plugin restart mid-step: the new process adopts the running pod"
uid="$(new_workflow wf-restart)"
tmpl='{"name":"sleep","plugin":{"wasm":{"module":'"$(module sleep)"',"args":["6"]}}}'
reply="$(execute wf-restart "$uid" "$tmpl")"
expect "first call answers Running" '.node.phase == "Running"' "$reply"
for _ in $(seq 100); do
  [[ "$(k GET "/api/v1/namespaces/default/pods?labelSelector=workflows.argoproj.io/workflow%3Dwf-restart" | jq -r '.items[0].status.phase')" == Running ]] && break
  sleep 0.2
done
pod_uid="$(k GET "/api/v1/namespaces/default/pods?labelSelector=workflows.argoproj.io/workflow%3Dwf-restart" | jq -r '.items[0].metadata.uid')"
stop_plugin
start_plugin "$WORK/plugin-2.log"
reply="$(run_step wf-restart "$uid" "$tmpl")"
expect "sleep finished after the restart" '.node.phase == "Succeeded" and .node.outputs.result == "slept"' "$reply"
if grep -q "created pod" "$WORK/plugin-2.log"; then fail "the restarted plugin created a second pod"; else say "ok: one pod ($pod_uid) for the step"; fi

say "workflow deleted: its step pod goes with it (ownerReference) and the step fails clearly"
uid="$(new_workflow wf-gone)"
tmpl='{"name":"sleep","plugin":{"wasm":{"module":'"$(module sleep)"',"args":["60"]}}}'
execute wf-gone "$uid" "$tmpl" >/dev/null
for _ in $(seq 100); do [[ "$(step_pods)" == 1 ]] && break; sleep 0.2; done
k DELETE /apis/argoproj.io/v1alpha1/namespaces/default/workflows/wf-gone >/dev/null
reply="$(run_step wf-gone "$uid" "$tmpl" 60)"
expect "step of a deleted workflow failed" '.node.phase == "Failed" and (.node.message | test("deleted"))' "$reply"
expect "its pod is gone" '. == 0' "$(wait_no_pods)"

say "workflow stopped: its running step pod is deleted and the step fails clearly"
uid="$(new_workflow wf-stop)"
tmpl='{"name":"sleep","plugin":{"wasm":{"module":'"$(module sleep)"',"args":["60"]}}}'
execute wf-stop "$uid" "$tmpl" >/dev/null
for _ in $(seq 100); do [[ "$(step_pods)" == 1 ]] && break; sleep 0.2; done
k PATCH /apis/argoproj.io/v1alpha1/namespaces/default/workflows/wf-stop \
  '{"spec":{"shutdown":"Stop"}}' application/merge-patch+json >/dev/null
reply="$(run_step wf-stop "$uid" "$tmpl" 60)"
expect "step of a stopped workflow failed" '.node.phase == "Failed" and (.node.message | test("stopped"))' "$reply"
expect "its pod is gone" '. == 0' "$(wait_no_pods)"

say "artifacts: in from and out to a real S3 server (versitygw), credentials from a Secret"
S3_PORT="$(free_port)"
mkdir -p "$WORK/s3/argo" "$WORK/in"
"$HOME/go/bin/versitygw" --access wwpkey --secret wwpsecret1234 --port "127.0.0.1:$S3_PORT" --quiet \
  posix "$WORK/s3" >"$WORK/versitygw.log" 2>&1 &
S3_SERVER=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 0.1; done
aws_s3() { AWS_ACCESS_KEY_ID=wwpkey AWS_SECRET_ACCESS_KEY=wwpsecret1234 AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url "http://127.0.0.1:$S3_PORT" s3 "$@"; }
echo "hello from a container" >"$WORK/in/message.txt"
tar -czf "$WORK/in.tgz" -C "$WORK/in" message.txt
aws_s3 cp "$WORK/in.tgz" s3://argo/earlier-step/message.tgz >/dev/null
k POST /api/v1/namespaces/default/secrets \
  '{"metadata":{"name":"s3-cred"},"stringData":{"accesskey":"wwpkey","secretkey":"wwpsecret1234"}}' >/dev/null
stop_plugin
start_plugin "$WORK/plugin-s3.log" --pod-artifact-secret s3-cred
s3loc() {
  printf '{"endpoint":"127.0.0.1:%s","bucket":"argo","insecure":true,"key":"%s","accessKeySecret":{"name":"s3-cred","key":"accesskey"},"secretKeySecret":{"name":"s3-cred","key":"secretkey"}}' "$S3_PORT" "$1"
}
uid="$(new_workflow wf-s3)"
tmpl='{"name":"shout","inputs":{"artifacts":[{"name":"message","path":"/tmp/in.txt","s3":'"$(s3loc earlier-step/message.tgz)"'}]},
  "outputs":{"artifacts":[{"name":"shouted","path":"/tmp/out.txt","s3":'"$(s3loc wf-s3/shouted.tgz)"'}]},
  "plugin":{"wasm":{"module":'"$(module upper)"',"args":["/tmp/in.txt","/tmp/out.txt"]}}}'
reply="$(run_step wf-s3 "$uid" "$tmpl")"
expect "artifact step succeeded" '.node.phase == "Succeeded"' "$reply"
key="$(jq -r '.node.outputs.artifacts[0].s3.key // empty' <<<"$reply")"
mkdir -p "$WORK/out"
if [[ -n "$key" ]] && aws_s3 cp "s3://argo/$key" "$WORK/out.tgz" >/dev/null && tar -xzf "$WORK/out.tgz" -C "$WORK/out" &&
  [[ "$(cat "$WORK/out/out.txt")" == "HELLO FROM A CONTAINER" ]]; then
  say "ok: the pod's output artifact is in S3 and unpacks to the module's output"
else
  fail "output artifact: key '$key', reply $reply"
fi

say "artifacts through the plugin's default repository: the pod gets it (and its credentials) from the plugin"
# The plugin reads the repository and its Secret from files; the step pod has neither mounted.
mkdir -p "$WORK/plugin-secrets/s3-cred"
printf wwpkey >"$WORK/plugin-secrets/s3-cred/accesskey"
printf wwpsecret1234 >"$WORK/plugin-secrets/s3-cred/secretkey"
cat >"$WORK/repository.yaml" <<EOF
s3:
  endpoint: 127.0.0.1:$S3_PORT
  bucket: argo
  insecure: true
  keyFormat: "{{workflow.name}}/{{pod.name}}"
  accessKeySecret: {name: s3-cred, key: accesskey}
  secretKeySecret: {name: s3-cred, key: secretkey}
EOF
stop_plugin
start_plugin "$WORK/plugin-repo.log" --artifact-repository "$WORK/repository.yaml" \
  --artifact-secrets-dir "$WORK/plugin-secrets"
uid="$(new_workflow wf-repo)"
# As the controller passes an earlier step's output: only the key, resolved against the default
# repository; the output names no location at all.
tmpl='{"name":"shout","inputs":{"artifacts":[{"name":"message","path":"/tmp/in.txt","s3":{"key":"earlier-step/message.tgz"}}]},
  "outputs":{"artifacts":[{"name":"shouted","path":"/tmp/out.txt"}]},
  "plugin":{"wasm":{"module":'"$(module upper)"',"args":["/tmp/in.txt","/tmp/out.txt"]}}}'
reply="$(run_step wf-repo "$uid" "$tmpl")"
expect "default-repository step succeeded" '.node.phase == "Succeeded"' "$reply"
key="$(jq -r '.node.outputs.artifacts[0].s3.key // empty' <<<"$reply")"
rm -rf "$WORK/out" && mkdir -p "$WORK/out"
if [[ "$key" == wf-repo/* ]] && aws_s3 cp "s3://argo/$key" "$WORK/out.tgz" >/dev/null &&
  tar -xzf "$WORK/out.tgz" -C "$WORK/out" && [[ "$(cat "$WORK/out/out.txt")" == "HELLO FROM A CONTAINER" ]]; then
  say "ok: the output went to the plugin's repository under its keyFormat ($key)"
else
  fail "default-repository output: key '$key', reply $reply"
fi
expect "no request secrets left" '. == 0' "$(step_secrets)"

# expect_no_start WHAT NAME MESSAGE_REGEX [plugin flags...]: with these flags a step's pod never
# starts; the step fails with a message matching MESSAGE_REGEX and the pod is removed.
expect_no_start() {
  local what="$1" name="$2" pattern="$3" uid reply
  shift 3
  stop_plugin
  start_plugin "$WORK/plugin-$name.log" "$@"
  uid="$(new_workflow "wf-$name")"
  reply="$(run_step "wf-$name" "$uid" '{"name":"hello","plugin":{"wasm":{"module":'"$(module hello)"'}}}' 60)"
  expect "$what failed" '.node.phase == "Failed" and (.node.message | test("'"$pattern"'"))' "$reply"
  expect "its pod was removed" '. == 0' "$(wait_no_pods)"
}

say "image missing: a clear failure, not an endless Running"
expect_no_start "missing image" noimage 'ErrImageNeverPull' --pod-image localhost/no-such-image:1

say "unschedulable (no node matches): the scheduler's reason after --pod-start-timeout"
expect_no_start "unschedulable pod" unschedulable 'not scheduled \\(Unschedulable\\)' \
  --pod-node-selector wwp-test/absent=yes --pod-start-timeout 4s

say "API server unreachable: 503 to the agent"
stop_plugin
start_plugin "$WORK/plugin-4.log" --kube-api "https://127.0.0.1:$(free_port)"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PLUGIN_PORT/api/v1/template.execute" \
  -H "Content-Type: application/json" --data-binary \
  '{"workflow":{"metadata":{"name":"wf-x","namespace":"default","uid":"u-x"}},"template":{"name":"hello","plugin":{"wasm":{"module":'"$(module hello)"'}}}}')"
expect "unreachable API server answers 503" '. == 503' "$code"

if ((failures)); then
  KEEP_WORK=1
  echo "$failures check(s) failed; logs kept in $WORK" >&2
  exit 1
fi
echo "distributed mode on a real node: all checks passed" >&2
