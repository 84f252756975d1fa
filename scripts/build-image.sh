#!/usr/bin/env bash
# Builds the plugin's OCI image from a built binary, without a Docker daemon (Debian's buildah,
# `from scratch`), and writes it as an OCI archive:
#
#   scripts/build-image.sh [--arch amd64|arm64] [--tag NAME:TAG] [--modules DIR] BINARY OUT.oci.tar
#
# --modules bakes DIR's *.wasm into /modules (for `module: {path: x.wasm}`), as an image built
# FROM this one would.
#
# The image holds what scripts/stage-rootfs.sh lays out (the binary, exactly the shared libraries
# `ldd` lists, CA certificates, user 65532, the volume directories) in one layer, with the
# entrypoint, user, environment and volumes configured. The Dockerfile at the top of the
# repository builds the same image with Docker.
#
# buildah's storage is a temporary directory (removed on exit) with the vfs driver, so that the
# script neither needs overlay support nor touches /var/lib/containers.
set -euo pipefail

arch=amd64
tag=wasm-workflows-plugin:dev
modules=""
while [[ $# -gt 2 ]]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --modules) modules=$(realpath "$2"); shift 2 ;;
    *) break ;;
  esac
done
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--arch amd64|arm64] [--tag NAME:TAG] [--modules DIR] BINARY OUT.oci.tar" >&2
  exit 2
fi
binary=$(realpath "$1")
out=$(realpath -m "$2")
case "$arch" in amd64 | arm64) ;; *) echo "build-image: unknown arch $arch" >&2; exit 2 ;; esac

# Paths inside the image, as scripts/stage-rootfs.sh lays them out.
readonly IMAGE_BINARY=/usr/local/bin/wasm-workflows-plugin
readonly MODULE_DIR=/modules
readonly CACHE_DIR=/var/cache/wasm-workflows-plugin
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

work=$(mktemp -d)
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  if [[ -n ${container:-} ]]; then buildah "${store[@]}" rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

root="$work/rootfs"
"$(dirname "$0")/stage-rootfs.sh" --arch "$arch" "$binary" "$root"
if [[ -n "$modules" ]]; then
  install -m 0644 "$modules"/*.wasm "$root$MODULE_DIR/"
fi

# `version` runs on the host for amd64, under qemu for arm64.
case "$arch" in
  amd64) version=$("$binary" version | awk '{print $2}') ;;
  arm64) version=$(qemu-aarch64 "$binary" version | awk '{print $2}') ;;
esac

container=$(buildah "${store[@]}" from --arch "$arch" --os linux scratch)
# One layer from a tar, which keeps the owners: root for everything but the volume directories,
# which belong to the runtime user so that they are writable without a volume too.
tar -C "$root" --numeric-owner --sort=name -cf "$work/rootfs.tar" .
buildah "${store[@]}" add --quiet "$container" "$work/rootfs.tar" / >/dev/null
buildah "${store[@]}" config \
  --arch "$arch" --os linux \
  --user 65532:65532 \
  --workingdir / \
  --entrypoint "[\"$IMAGE_BINARY\"]" \
  --cmd '["serve", "--bind=0.0.0.0", "--port=7492"]' \
  --env MODULE_DIR="$MODULE_DIR" \
  --env FS_CACHE_DIR="$CACHE_DIR" \
  --env SSL_CERT_FILE="$CA_BUNDLE" \
  --volume "$MODULE_DIR" --volume "$CACHE_DIR" --volume /tmp \
  --port 7492 \
  --label org.opencontainers.image.title=wasm-workflows-plugin \
  --label org.opencontainers.image.description="Argo Workflows executor plugin that runs WebAssembly modules" \
  --label org.opencontainers.image.version="$version" \
  "$container"
buildah "${store[@]}" commit --quiet --format oci "$container" "$tag" >/dev/null
rm -f "$out"
buildah "${store[@]}" push --quiet "$tag" "oci-archive:$out:$tag"
echo "build-image: $out ($tag, linux/$arch, version $version)"
