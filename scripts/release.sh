#!/usr/bin/env bash
# Builds a release into dist/ (gitignored):
#
#   scripts/release.sh [--push REGISTRY/REPO] [--skip-arm64]
#
#   wasm-workflows-plugin-<v>-linux-{amd64,arm64}       the binaries
#   wasm-workflows-plugin-<v>-linux-{amd64,arm64}.oci.tar  one image per platform (OCI archive)
#   wasm-workflows-plugin-<v>.oci.tar                   the two-platform image index (OCI archive)
#   wasm-workflows-plugin-<v>.tgz                       the Helm chart (helm package)
#   wasm-workflows-plugin-{sdk-c,sdk-go,sdk-rust,templates}-<v>.tar.gz
#   SHA256SUMS
#
# <v> is what `wasm-workflows-plugin version` reports (git describe). The arm64 binary is
# cross-built (cmake/toolchain-aarch64.cmake, Debian's aarch64 gcc, arm64 libraries through
# multiarch, Wasmtime's C API for aarch64-unknown-linux-gnu) and must serve a step under
# qemu-user before it is packaged. --push also pushes the index to a registry (plain HTTP allowed
# for a local one). First run on 2 cores: about an hour (Wasmtime for aarch64); see
# docs/operations.md "Releases" for measured times.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$HOME/go/bin:$PATH"
push=""
arm64=1
while (($#)); do
  case "$1" in
    --push) push=$2; shift 2 ;;
    --skip-arm64) arm64=0; shift ;;
    *) echo "usage: $0 [--push REGISTRY/REPO] [--skip-arm64]" >&2; exit 2 ;;
  esac
done
cache="$HOME/.cache/wasm-workflows-plugin"
started=$SECONDS
step() { echo "release: [$((SECONDS - started))s] $*"; }

# --- toolchains ---------------------------------------------------------------------------
scripts/setup.sh
ARM64_PACKAGES=(libcurl4-openssl-dev:arm64 libssl-dev:arm64 libarchive-dev:arm64 libspdlog-dev:arm64
                libfmt-dev:arm64 libmicrohttpd-dev:arm64 libcpp-httplib-dev:arm64 libyaml-cpp0.7:arm64)
CROSS_PACKAGES=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)
# Debian's libyaml-cpp-dev is not co-installable for two architectures (not Multi-Arch: same);
# its arm64 files are unpacked into this directory instead (the toolchain file searches it).
arm64_extra="$cache/arm64-extra"
if ((arm64)); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    step "adding the arm64 architecture to dpkg (multiarch)"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  missing=()
  for pkg in "${CROSS_PACKAGES[@]}" "${ARM64_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  yaml_version=$(dpkg-query -W -f='${Version}' libyaml-cpp0.7:arm64)
  if ! [[ -f "$arm64_extra/.yaml-cpp-$yaml_version" ]]; then
    step "unpacking libyaml-cpp-dev:arm64 $yaml_version into $arm64_extra"
    rm -rf "$arm64_extra" && mkdir -p "$arm64_extra/debs"
    (cd "$arm64_extra/debs" && apt-get download -qq "libyaml-cpp-dev:arm64=$yaml_version" "libyaml-cpp0.7:arm64=$yaml_version")
    for deb in "$arm64_extra"/debs/*.deb; do dpkg-deb -x "$deb" "$arm64_extra"; done
    touch "$arm64_extra/.yaml-cpp-$yaml_version"
  fi
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
fi

# --- binaries -----------------------------------------------------------------------------
step "building the release binary (amd64)"
scripts/build.sh release
version=$(build/wasm-workflows-plugin version | awk '{print $2}')
rm -rf dist && mkdir dist
cp build/wasm-workflows-plugin "dist/wasm-workflows-plugin-$version-linux-amd64"

# Serves one step (greet.wasm, args in, stdout out) with BINARY... on a free port.
smoke_test() {
  local port reply pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local cache_dir
  cache_dir=$(mktemp -d)
  "$@" serve --bind=127.0.0.1 --port="$port" --module-dir=build/modules --fs-cache-dir="$cache_dir" \
    --insecure-no-token 2>"$cache_dir.log" &
  pid=$!
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local t0=$SECONDS
  reply=$(curl -fsS "http://127.0.0.1:$port/api/v1/template.execute" -H 'Content-Type: application/json' -d '{
    "workflow": {"metadata": {"name": "release-smoke", "namespace": "default", "uid": "smoke"}},
    "template": {"name": "greet", "inputs": {"parameters": [{"name": "who", "value": "arm64"}]},
                 "plugin": {"wasm": {"module": {"path": "greet.wasm"}, "args": ["{{inputs.parameters.who}}"]}}}}' || true)
  local seconds=$((SECONDS - t0))
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$cache_dir"
  if [[ $(jq -r .node.outputs.result <<<"$reply" 2>/dev/null) != "Hello, arm64!" ]]; then
    echo "release: smoke test of $* failed: ${reply:-no reply}" >&2
    cat "$cache_dir.log" >&2
    rm -f "$cache_dir.log"
    return 1
  fi
  rm -f "$cache_dir.log"
  echo "release: smoke test passed ($*): $(jq -c .node <<<"$reply") in ${seconds}s"
}

if ((arm64)); then
  step "cross-building for arm64 (Wasmtime's C API for aarch64 first; long the first time)"
  export WWP_ARM64_EXTRA_ROOT="$arm64_extra"
  # Its own cargo target dir: the host build's would be locked for the whole aarch64 build.
  export WWP_CARGO_TARGET_DIR="$cache/cargo-target-aarch64"
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
    -DCMAKE_BUILD_TYPE=Release -DWWP_BUILD_TESTS=OFF -DWWP_BUILD_BENCH=OFF >/dev/null
  cmake --build build-aarch64 --target wasm-workflows-plugin -j 2
  file build-aarch64/wasm-workflows-plugin | grep -q 'ARM aarch64' || { echo "release: not an arm64 binary" >&2; exit 1; }
  step "smoke-testing the arm64 binary under qemu-user"
  smoke_test qemu-aarch64 build-aarch64/wasm-workflows-plugin
  cp build-aarch64/wasm-workflows-plugin "dist/wasm-workflows-plugin-$version-linux-arm64"
fi

# --- images -------------------------------------------------------------------------------
image=wasm-workflows-plugin:$version
archs=(amd64)
((arm64)) && archs+=(arm64)
for arch in "${archs[@]}"; do
  step "image for linux/$arch"
  scripts/build-image.sh --arch "$arch" --tag "$image" "dist/wasm-workflows-plugin-$version-linux-$arch" \
    "dist/wasm-workflows-plugin-$version-linux-$arch.oci.tar"
done
step "image index for ${archs[*]}"
work=$(mktemp -d)
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
trap 'buildah "${store[@]}" rmi --all --force >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
buildah "${store[@]}" manifest create "$image" >/dev/null
for arch in "${archs[@]}"; do
  buildah "${store[@]}" manifest add --arch "$arch" --os linux "$image" \
    "oci-archive:dist/wasm-workflows-plugin-$version-linux-$arch.oci.tar" >/dev/null
done
buildah "${store[@]}" manifest push --quiet --all "$image" "oci-archive:dist/wasm-workflows-plugin-$version.oci.tar:$image"
platforms=$(skopeo inspect --raw "oci-archive:dist/wasm-workflows-plugin-$version.oci.tar" |
  jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(", ")')
echo "release: index platforms: $platforms"
if [[ -n $push ]]; then
  step "pushing the index to $push:$version"
  buildah "${store[@]}" manifest push --quiet --all --tls-verify=false "$image" "docker://$push:$version"
fi

# --- chart, SDKs, checksums ---------------------------------------------------------------
step "chart"
helm=$(tests/deploy/ensure-helm.sh)
chart_version=${version#v}
"$helm" package deploy/helm/wasm-workflows-plugin --version "$chart_version" --app-version "$version" \
  --destination dist >/dev/null
step "SDK archives (committed files of HEAD)"
for part in sdk/c sdk/go sdk/rust templates; do
  name=$(tr / - <<<"$part")
  git archive --format=tar.gz --prefix="wasm-workflows-plugin-$name-$version/" \
    -o "dist/wasm-workflows-plugin-$name-$version.tar.gz" HEAD "$part" sdk/README.md sdk/VERSION
done
(cd dist && sha256sum -- * > SHA256SUMS)
step "done: dist/"
ls -l dist
