#!/usr/bin/env bash
# Builds the plugin's OCI image from a built binary, without a Docker daemon (Debian's buildah,
# `from scratch`), and writes it as an OCI archive:
#
#   scripts/build-image.sh [--arch amd64|arm64] [--tag NAME:TAG] BINARY OUT.oci.tar
#
# The image holds the binary, exactly the shared libraries its dynamic loader resolves (`ldd`; for
# arm64 the arm64 loader under qemu-user), the CA bundle, /etc/passwd and /etc/group with the
# non-root user 65532, and empty directories for the volumes. Everything the plugin writes goes
# to the volumes, so the root filesystem can be read-only. The Dockerfile at the top of the
# repository builds the same layout with Docker.
#
# buildah's storage is a temporary directory (removed on exit) with the vfs driver, so that the
# script neither needs overlay support nor touches /var/lib/containers.
set -euo pipefail

arch=amd64
tag=wasm-workflows-plugin:dev
while [[ $# -gt 2 ]]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    *) break ;;
  esac
done
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--arch amd64|arm64] [--tag NAME:TAG] BINARY OUT.oci.tar" >&2
  exit 2
fi
binary=$(realpath "$1")
out=$(realpath -m "$2")
case "$arch" in
  amd64) list_libs=(ldd "$binary") ;;
  # qemu-user runs the arm64 loader, which resolves from the multiarch dirs like on an arm64 host.
  arm64) list_libs=(qemu-aarch64 /lib/ld-linux-aarch64.so.1 --list "$binary") ;;
  *) echo "build-image: unknown arch $arch" >&2; exit 2 ;;
esac

# Paths inside the image; the Helm chart, the kustomize manifests and the Dockerfile use the same.
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

# The root filesystem, staged as files owned by root.
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$root$MODULE_DIR" "$root$CACHE_DIR"
install -m 0755 "$binary" "$root$IMAGE_BINARY"
# Every line of the loader's list with a path: "libx.so.1 => /path (0x...)" or "/lib64/ld-... (0x...)".
mapfile -t libs < <("${list_libs[@]}" | awk '/=> \// {print $3} /^[ \t]*\// {print $1}' | sort -u)
if ((${#libs[@]} == 0)); then
  echo "build-image: no shared libraries listed for $binary (is it built for $arch?)" >&2
  exit 1
fi
for lib in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf '%s\n' "${libs[@]}" > "$work/libraries.txt"
cp -L "$CA_BUNDLE" "$root$CA_BUNDLE"
cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
chmod 1777 "$root/tmp"
chown 65532:65532 "$root$MODULE_DIR" "$root$CACHE_DIR"

# `version` runs on the host for amd64, under qemu for arm64.
case "$arch" in
  amd64) version=$("$binary" version | awk '{print $2}') ;;
  arm64) version=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$binary" version | awk '{print $2}') ;;
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
echo "build-image: $out ($tag, linux/$arch, version $version, ${#libs[@]} shared libraries)"
