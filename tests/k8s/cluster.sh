#!/usr/bin/env bash
# A real one-node Kubernetes 1.37 on loopback for the tests (see tests/k8s/README.md).
#
#   cluster.sh up DIR [--node]   start kine + kube-apiserver + kube-controller-manager +
#                                kube-scheduler; with --node also containerd + kubelet
#   cluster.sh down DIR          stop and remove everything `up` started (pods, containers,
#                                mounts, cgroups), whatever state it is in
#   cluster.sh load DIR TAR      import an image archive (docker-archive) into the node
#
# `up` writes DIR/kubeconfig and DIR/env (K8S_API_URL, K8S_TOKEN, K8S_CA_FILE, K8S_NODE_NAME,
# CONTAINERD_ADDRESS, KUBECONFIG; `source` it). Nothing is pulled: pods use local images with
# `imagePullPolicy: Never`, `hostNetwork: true` (no CNI, so the node stays Ready=False and carries
# the not-ready taint: pods tolerate it). Only one node runs at a time on a machine (a lock),
# because kubelet owns the /kubepods cgroups.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_NAME=wwp-node
PAUSE_IMAGE=localhost/wwp-pause:1

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts a background process in its own session, output to DIR/logs/NAME.log, pid in DIR/pids.
start() {
  local name="$1"; shift
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$DIR/pids/$name"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"; shift 2
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out after ${seconds}s waiting for $what (logs in $DIR/logs)"
    sleep 0.2
  done
}

api() {  # api METHOD PATH [BODY] [CONTENT-TYPE]: curl against the API server as the admin
  local method="$1" path="$2" body="${3:-}" type="${4:-application/json}"
  local args=(-sS --fail-with-body --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN"
    -X "$method" "https://127.0.0.1:$API_PORT$path")
  [[ -z "$body" ]] || args+=(-H "Content-Type: $type" --data-binary "$body")
  curl "${args[@]}"
}

make_pki() {
  mkdir -p "$DIR/pki"
  cd "$DIR/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=wwp-test-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
    -subj "/CN=kube-apiserver" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 2 -extfile san.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  TOKEN="$(openssl rand -hex 24)"
  echo "$TOKEN,wwp-admin,wwp-admin-uid,system:masters" >tokens.csv
  cd - >/dev/null
}

write_kubeconfig() {
  cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: wwp
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $DIR/pki/ca.crt
users:
- name: wwp-admin
  user:
    token: $TOKEN
contexts:
- name: wwp
  context: {cluster: wwp, user: wwp-admin, namespace: default}
current-context: wwp
EOF
  cat >"$DIR/env" <<EOF
K8S_API_URL=https://127.0.0.1:$API_PORT
K8S_TOKEN=$TOKEN
K8S_CA_FILE=$DIR/pki/ca.crt
K8S_NODE_NAME=$NODE_NAME
KUBECONFIG=$DIR/kubeconfig
EOF
}

# The pause container of every pod: the same few lines as Kubernetes' own pause.c, built static.
pause_image_archive() {
  local archive="$BIN/wwp-pause-1.tar"
  [[ -s "$archive" ]] && { echo "$archive"; return; }
  local work; work="$(mktemp -d)"
  cat >"$work/pause.c" <<'EOF'
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
static void quit(int sig) { (void)sig; _exit(0); }
int main(void) {
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  for (;;) pause();
}
EOF
  gcc -static -O2 -o "$work/pause" "$work/pause.c"
  local ctr; ctr="$(buildah from scratch)"
  buildah copy "$ctr" "$work/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' "$ctr"
  buildah commit -q "$ctr" "$PAUSE_IMAGE" >/dev/null
  buildah rm "$ctr" >/dev/null
  buildah push -q "$PAUSE_IMAGE" "docker-archive:$archive.tmp:$PAUSE_IMAGE"
  mv "$archive.tmp" "$archive"
  rm -rf "$work"
  echo "$archive"
}

start_node() {
  # One node per machine: a holder process keeps the lock until `down` ends it.
  local lock="$BIN/node.lock"
  (exec 8>"$lock"; flock -w 1800 8 || exit 1; touch "$DIR/node.locked"; exec sleep infinity) \
    >/dev/null 2>&1 </dev/null &
  echo $! >"$DIR/pids/node-lock"
  wait_for 1800 "the node lock ($lock; another cluster.sh node is up)" test -e "$DIR/node.locked"

  local c="$DIR/containerd"
  mkdir -p "$c/root" "$c/state"
  SOCK="$c/containerd.sock"
  cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF
  start containerd containerd --config "$c/config.toml"
  wait_for 30 containerd ctr --address "$SOCK" version
  ctr --address "$SOCK" -n k8s.io images import "$(pause_image_archive)" >/dev/null

  # kubelet rewrites these host sysctls; it gets its own copies in a private mount namespace.
  local k="$DIR/kubelet"
  mkdir -p "$k/root" "$k/certs" "$k/pod-logs" "$k/sysctl"
  for f in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
    cat "/proc/sys/$f" >"$k/sysctl/${f//\//_}"
  done
  # Shared, so the tmpfs kubelet mounts for service-account tokens are seen by runc.
  mount --bind "$k/root" "$k/root"
  mount --make-shared "$k/root"
  touch "$DIR/kubelet.mounted"
  local port healthz
  port="$(free_port)"; healthz="$(free_port)"
  cat >"$k/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $port
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
readOnlyPort: 0
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$SOCK
podLogsDir: $k/pod-logs
resolvConf: ""
evictionHard: {}
imageGCHighThresholdPercent: 100
makeIPTablesUtilChains: false
protectKernelDefaults: false
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
EOF
  start kubelet unshare -m --propagation unchanged sh -c '
    k="$1"; shift
    mount --bind "$k/sysctl/vm_overcommit_memory" /proc/sys/vm/overcommit_memory &&
    mount --bind "$k/sysctl/kernel_panic" /proc/sys/kernel/panic &&
    mount --bind "$k/sysctl/kernel_panic_on_oops" /proc/sys/kernel/panic_on_oops &&
    exec "$@"' kubelet "$k" "$BIN/kubelet" --config "$k/config.yaml" \
    --kubeconfig "$DIR/kubeconfig" --root-dir "$k/root" --cert-dir "$k/certs" \
    --hostname-override "$NODE_NAME" --node-ip 127.0.0.1
  wait_for 120 "the node to register" api GET "/api/v1/nodes/$NODE_NAME"
  # kubelet refuses a loopback node IP, so the node has no address; logs need one.
  api PATCH "/api/v1/nodes/$NODE_NAME/status" \
    '{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":"'"$NODE_NAME"'"}]}}' \
    application/merge-patch+json >/dev/null
  echo "CONTAINERD_ADDRESS=$SOCK" >>"$DIR/env"
}

up() {
  local with_node="$1"
  mkdir -p "$DIR/logs" "$DIR/pids"
  BIN="$("$HERE/build-binaries.sh")"
  make_pki
  local kine_port; kine_port="$(free_port)"
  API_PORT="$(free_port)"
  start kine "$BIN/kine" --endpoint "sqlite://$DIR/state.db?_journal=WAL&cache=shared" \
    --listen-address "127.0.0.1:$kine_port" --metrics-bind-address=0
  wait_for 30 kine bash -c "exec 3<>/dev/tcp/127.0.0.1/$kine_port"
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$kine_port" \
    --bind-address 127.0.0.1 --secure-port "$API_PORT" \
    --cert-dir "$DIR/pki" --tls-cert-file "$DIR/pki/apiserver.crt" \
    --tls-private-key-file "$DIR/pki/apiserver.key" --client-ca-file "$DIR/pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$DIR/pki/sa.pub" \
    --service-account-signing-key-file "$DIR/pki/sa.key" \
    --token-auth-file "$DIR/pki/tokens.csv" --authorization-mode RBAC \
    --service-cluster-ip-range 10.96.0.0/16 --kubelet-preferred-address-types InternalIP \
    --enable-priority-and-fairness=false --profiling=false
  write_kubeconfig
  wait_for 120 "the API server" api GET /readyz
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --controllers garbage-collector-controller,serviceaccount-controller,root-ca-certificate-publisher-controller,namespace-controller \
    --root-ca-file "$DIR/pki/ca.crt" --service-account-private-key-file "$DIR/pki/sa.key"
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$DIR/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false
  # The controllers create these too; doing it here means a test never races them.
  api POST /api/v1/namespaces/default/serviceaccounts '{"metadata":{"name":"default"}}' \
    >/dev/null 2>&1 || true
  wait_for 60 "the default ServiceAccount" api GET /api/v1/namespaces/default/serviceaccounts/default
  wait_for 60 "the kube-root-ca.crt ConfigMap" \
    api GET /api/v1/namespaces/default/configmaps/kube-root-ca.crt
  if [[ "$with_node" == 1 ]]; then start_node; fi
  log "up in $DIR (API https://127.0.0.1:$API_PORT)"
}

stop_pid() {  # stop_pid NAME: TERM, then KILL after 10 s, the process group `start` created
  local file="$DIR/pids/$1"
  [[ -f "$file" ]] || return 0
  local pid; pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  [[ -d "$DIR" ]] || return 0
  if [[ -f "$DIR/env" ]]; then
    # shellcheck disable=SC1091
    source "$DIR/env"
    TOKEN="$K8S_TOKEN"; API_PORT="${K8S_API_URL##*:}"
    if [[ -f "$DIR/pids/kubelet" ]]; then
      # Pods first, while kubelet still runs, so it stops their containers and unmounts volumes.
      api DELETE "/api/v1/pods?gracePeriodSeconds=0" >/dev/null 2>&1 ||
        for ns in $(api GET /api/v1/namespaces 2>/dev/null | python3 -c 'import json,sys; print(" ".join(i["metadata"]["name"] for i in json.load(sys.stdin)["items"]))' 2>/dev/null); do
          api DELETE "/api/v1/namespaces/$ns/pods?gracePeriodSeconds=0" >/dev/null 2>&1 || true
        done
      for _ in $(seq 50); do
        [[ "$(api GET /api/v1/pods 2>/dev/null | grep -c '"uid"')" == 0 ]] && break
        sleep 0.2
      done
    fi
  fi
  stop_pid kubelet
  if [[ -n "${CONTAINERD_ADDRESS:-}" && -S "${CONTAINERD_ADDRESS}" ]]; then
    local c
    for t in $(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_ADDRESS" -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for t in $(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_ADDRESS" -n k8s.io tasks delete -f "$t" >/dev/null 2>&1 || true
    done
    for c in $(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io containers ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_ADDRESS" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  # containerd-shim processes outlive containerd; end the ones serving this cluster's state.
  if [[ -d "$DIR/containerd" ]]; then
    for p in $(pgrep -x containerd-shim-runc-v2 2>/dev/null || true); do
      if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$DIR/containerd"; then
        kill -KILL "$p" 2>/dev/null || true
      fi
    done
  fi
  stop_pid kube-scheduler
  stop_pid kube-controller-manager
  stop_pid kube-apiserver
  stop_pid kine
  # Mounts under this cluster's directories (container rootfs, tokens, the shared root bind).
  grep -F " $DIR/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$DIR/kubelet.mounted"
  # The pods' cgroups kubelet created (cgroup v1: one tree per controller), bottom-up.
  if [[ -f "$DIR/pids/node-lock" ]]; then
    for h in /sys/fs/cgroup/*/; do
      [[ -d "$h/kubepods" ]] || continue
      find "$h/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    [[ -d /sys/fs/cgroup/unified/kubepods ]] &&
      find /sys/fs/cgroup/unified/kubepods -depth -type d -exec rmdir {} \; 2>/dev/null || true
  fi
  stop_pid node-lock
  rm -f "$DIR/node.locked"
  return 0
}

load() {  # load DIR TAR: import an image archive into the node's containerd
  # shellcheck disable=SC1091
  source "$DIR/env"
  [[ -n "${CONTAINERD_ADDRESS:-}" ]] || die "$DIR has no node (up without --node)"
  ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images import "$1" >/dev/null
}

cmd="${1:-}"; DIR="${2:-}"
[[ -n "$cmd" && -n "$DIR" ]] || die "usage: cluster.sh up DIR [--node] | down DIR | load DIR TAR"
mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
case "$cmd" in
  up)
    node=0; [[ "${3:-}" == "--node" ]] && node=1
    # A failed start leaves nothing running.
    trap 'rc=$?; if ((rc)); then log "up failed; cleaning up"; down || true; fi' EXIT
    up "$node"
    trap - EXIT
    ;;
  down) down ;;
  load) load "${3:?image archive}" ;;
  *) die "unknown command $cmd" ;;
esac
