#!/usr/bin/env bash
# Lays out the plugin image's root filesystem in ROOT (run as root, so that owners are right):
#
#   scripts/stage-rootfs.sh [--arch amd64|arm64] BINARY ROOT
#
# The binary, exactly the shared libraries its dynamic loader resolves (`ldd`; for arm64 the arm64
# loader under qemu-user, from the multiarch dirs), the CA bundle, /etc/passwd and /etc/group with
# the non-root user 65532, and the volume directories owned by it. Everything the plugin writes
# goes to the volumes, so the root filesystem can be read-only. Used by scripts/build-image.sh
# (buildah) and by the Dockerfile's build stage, so both images hold the same files.
set -euo pipefail
arch=amd64
if [[ ${1:-} == --arch ]]; then arch=$2; shift 2; fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--arch amd64|arm64] BINARY ROOT" >&2
  exit 2
fi
binary=$(realpath "$1")
root=$2
case "$arch" in amd64 | arm64) ;; *) echo "stage-rootfs: unknown arch $arch" >&2; exit 2 ;; esac

# Paths inside the image; scripts/build-image.sh, the Dockerfile, deploy/ and docs use the same.
readonly IMAGE_BINARY=/usr/local/bin/wasm-workflows-plugin
readonly MODULE_DIR=/modules
readonly CACHE_DIR=/var/cache/wasm-workflows-plugin
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$root$MODULE_DIR" "$root$CACHE_DIR"
install -m 0755 "$binary" "$root$IMAGE_BINARY"
libs=$("$(dirname "$0")/copy-shared-libs.sh" --arch "$arch" "$binary" "$root")
cp -L "$CA_BUNDLE" "$root$CA_BUNDLE"
cat > "$root/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOT
cat > "$root/etc/group" <<'EOT'
root:x:0:
nonroot:x:65532:
EOT
chmod 1777 "$root/tmp"
chown 65532:65532 "$root$MODULE_DIR" "$root$CACHE_DIR"
echo "stage-rootfs: $root: $IMAGE_BINARY and $libs shared libraries ($arch)"
