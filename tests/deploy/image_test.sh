#!/usr/bin/env bash
# The shipped image, run the way a container runtime would run it: scripts/build-image.sh builds it
# from BINARY, its layers are unpacked into a root, the root is mounted read-only with the
# module, cache and /tmp volumes on top (in a private mount namespace), and the entrypoint runs
# chrooted as the image's user serving real steps over HTTP.
#
#   image_test.sh BINARY MODULE_DIR
set -euo pipefail
binary=$(realpath "$1")
modules=$(realpath "$2")
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
plugin_pid=
cleanup() {
  if [[ -n $plugin_pid ]]; then kill "$plugin_pid" 2>/dev/null || true; wait "$plugin_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$repo/scripts/build-image.sh" --tag wasm-workflows-plugin:test "$binary" "$work/image.oci.tar"

# --- the image's configuration -------------------------------------------------------------
skopeo copy -q "oci-archive:$work/image.oci.tar" "dir:$work/image"
manifest="$work/image/manifest.json"
config="$work/image/$(jq -r '.config.digest | sub("sha256:"; "")' "$manifest")"
[[ $(jq -r .config.User "$config") == 65532:65532 ]] || fail "user is $(jq -r .config.User "$config")"
[[ $(jq -c .config.Entrypoint "$config") == '["/usr/local/bin/wasm-workflows-plugin"]' ]] ||
  fail "entrypoint $(jq -c .config.Entrypoint "$config")"
for volume in /modules /var/cache/wasm-workflows-plugin /tmp; do
  jq -e --arg v "$volume" '.config.Volumes | has($v)' "$config" >/dev/null || fail "no volume $volume"
done
[[ $(jq -r .architecture "$config") == amd64 && $(jq -r .os "$config") == linux ]] ||
  fail "platform $(jq -r '.os + "/" + .architecture' "$config")"
want_version=$("$binary" version | awk '{print $2}')
# `version` is `git describe` at configure time: a tag, or <project version>-g<commit>, of this repository.
if [[ $want_version =~ -g([0-9a-f]{7,})(-dirty)?$ ]] && git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$repo" cat-file -e "${BASH_REMATCH[1]}^{commit}" || fail "version $want_version names no commit of $repo"
elif ! [[ $want_version =~ ^v?[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  fail "version $want_version is neither git describe nor the project version"
fi
[[ $(jq -r '.config.Labels["org.opencontainers.image.version"]' "$config") == "$want_version" ]] ||
  fail "version label is not $want_version"

# The Dockerfile builds the same image for Docker users: same entrypoint, command, user, volumes.
dockerfile="$repo/Dockerfile"
for key in Entrypoint Cmd; do
  want=$(jq -c ".config.$key" "$config" | sed 's/,/, /g')
  grep -qxF "${key^^} $want" "$dockerfile" ||
    fail "Dockerfile lacks: ${key^^} $want"
done
grep -qx "USER $(jq -r .config.User "$config")" "$dockerfile" || fail "Dockerfile's USER differs"
grep -qxF "VOLUME $(jq -c '.config.Volumes | keys' "$config" | sed 's/,/, /g')" "$dockerfile" ||
  fail "Dockerfile's VOLUME differs from $(jq -c '.config.Volumes | keys' "$config")"

# --- its layers: exactly the binary, the libraries ldd lists, CA certificates, passwd/group --
root="$work/root"
mkdir "$root"
for layer in $(jq -r '.layers[].digest | sub("sha256:"; "")' "$manifest"); do
  tar -xf "$work/image/$layer" -C "$root" --same-owner --numeric-owner
done
expected=$( (echo /usr/local/bin/wasm-workflows-plugin /etc/passwd /etc/group /etc/ssl/certs/ca-certificates.crt
             ldd "$binary" | awk '/=> \// {print $3} /^[ \t]*\// {print $1}') | tr ' ' '\n' | sort -u)
actual=$(cd "$root" && find . -type f | sed 's/^\.//' | sort)
if [[ "$expected" != "$actual" ]]; then
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  fail "the image's files are not exactly the binary, its libraries and the base files (< wanted, > found)"
fi
(( $(grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt") > 50 )) || fail "CA bundle is nearly empty"
for dir in /modules /var/cache/wasm-workflows-plugin; do
  [[ $(stat -c %u:%g "$root$dir") == 65532:65532 ]] || fail "$dir is owned by $(stat -c %u:%g "$root$dir")"
done

# --- run it: read-only root, volumes, user 65532, no capabilities -------------------------
# The runtime's mount points (/proc, /dev) and what it would mount there.
mkdir -p "$root/proc" "$root/dev"
mkdir "$work/cache"
chown 65532:65532 "$work/cache"
# The environment the runtime gives the entrypoint: the image's Env only.
mapfile -t image_env < <(jq -r '.config.Env[]' "$config")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_in_root() {  # execs, so that a background run_in_root is the plugin process itself
  # shellcheck disable=SC2016
  exec env -i "${image_env[@]}" unshare --mount --propagation private -- sh -ec '
    root=$1 modules=$2 cache=$3; shift 3
    mount --bind "$root" "$root"
    mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    mount -t tmpfs -o mode=0755 dev "$root/dev"
    for d in null zero full random urandom; do touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"; done
    mount -t tmpfs -o mode=1777 tmp "$root/tmp"
    mount --bind "$modules" "$root/modules"; mount -o remount,bind,ro "$root/modules"
    mount --bind "$cache" "$root/var/cache/wasm-workflows-plugin"
    exec chroot --userspec=65532:65532 "$root" /usr/local/bin/wasm-workflows-plugin "$@"' \
    run-in-root "$root" "$modules" "$work/cache" "$@"
}

got_version=$(run_in_root version)
[[ $got_version == "wasm-workflows-plugin $want_version "* ]] || fail "version in the image: $got_version"

# As the image's default command would, except loopback only and no agent token.
run_in_root serve --bind=127.0.0.1 --port="$port" --insecure-no-token 2>"$work/plugin.log" &
plugin_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$plugin_pid" 2>/dev/null || { cat "$work/plugin.log" >&2; fail "the plugin exited"; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/plugin.log" >&2; fail "not ready"; }
[[ $(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$plugin_pid/status") == 65532655326553265532 ]] ||
  fail "the plugin does not run as 65532: $(grep Uid: "/proc/$plugin_pid/status")"

execute() {
  curl -fsS "http://127.0.0.1:$port/api/v1/template.execute" -H 'Content-Type: application/json' -d "$1"
}
# A plain WASI program: args in, stdout becomes outputs.result.
reply=$(execute '{"workflow": {"metadata": {"name": "image-test", "namespace": "default", "uid": "u1"}},
  "template": {"name": "greet", "inputs": {"parameters": [{"name": "who", "value": "image"}]},
               "plugin": {"wasm": {"module": {"path": "greet.wasm"}, "args": ["{{inputs.parameters.who}}"]}}}}')
[[ $(jq -r .node.phase <<<"$reply") == Succeeded && $(jq -r .node.outputs.result <<<"$reply") == "Hello, image!" ]] ||
  fail "greet step: $reply"
# A module with files in and out (a step sandbox on the cache volume, not the read-only root).
reply=$(execute '{"workflow": {"metadata": {"name": "image-test", "namespace": "default", "uid": "u2"}},
  "template": {"name": "echo",
               "inputs": {"parameters": [{"name": "message", "value": "from a read-only root"},
                                         {"name": "count", "value": "2"}, {"name": "fail", "value": "no"}]},
               "outputs": {"parameters": [{"name": "message", "valueFrom": {"path": "/work/out/message"}}]},
               "plugin": {"wasm": {"module": {"path": "legacy_echo.wasm"}, "greeting": "hi"}}}}')
[[ $(jq -r .node.phase <<<"$reply") == Succeeded ]] || fail "legacy_echo step: $reply"
jq -e '.node.outputs.parameters[] | select(.name == "message") | .value | contains("from a read-only root")' \
  <<<"$reply" >/dev/null || fail "legacy_echo output: $reply"
# The compiled modules went to the cache volume, as the runtime user.
compiled=$(find "$work/cache/compiled" -name '*.cwasm' -user 65532 | wc -l)
for _ in $(seq 100); do
  ((compiled >= 2)) && break
  sleep 0.3   # tiered compilation writes Cranelift's code in the background
  compiled=$(find "$work/cache/compiled" -name '*.cwasm' -user 65532 | wc -l)
done
((compiled >= 2)) || fail "$compiled compiled modules in the cache volume, expected 2"

kill -TERM "$plugin_pid"
wait "$plugin_pid" || fail "the plugin did not exit cleanly on SIGTERM: $(tail -5 "$work/plugin.log")"
plugin_pid=
echo "image test: OK ($(du -sh "$root" | cut -f1) unpacked, $(stat -c %s "$work/image.oci.tar") bytes archived)"
