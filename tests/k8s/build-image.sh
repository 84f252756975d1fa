#!/usr/bin/env bash
# A minimal image of the plugin for the tests in tests/k8s: the given binary and the shared
# libraries `ldd` lists, in a `scratch` image built with buildah, written as a docker-archive.
# (scripts/build-image.sh from the ship issue builds the release image; this one only needs to
# run `wasm-workflows-plugin run` in a pod on the test node.)
#
#   build-image.sh BINARY IMAGE ARCHIVE
set -euo pipefail
binary="$1" image="$2" archive="$3"
[[ -x "$binary" ]] || { echo "build-image.sh: $binary is not an executable" >&2; exit 1; }

root="$(mktemp -d)"
ctr=""
cleanup() {
  [[ -z "$ctr" ]] || buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp"
cp "$binary" "$root/usr/local/bin/wasm-workflows-plugin"
# Every library at the path the loader looks for it (and the loader itself).
ldd "$binary" | awk '/=> \//{print $3} /^\s*\//{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[[ -f /etc/ssl/certs/ca-certificates.crt ]] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
echo "nonroot:x:65532:65532::/tmp:/sbin/nologin" >"$root/etc/passwd"
echo "nonroot:x:65532:" >"$root/etc/group"

ctr="$(buildah from scratch)"
buildah copy -q "$ctr" "$root" / >/dev/null
buildah config --entrypoint '["/usr/local/bin/wasm-workflows-plugin"]' --user 65532:65532 "$ctr"
buildah commit -q "$ctr" "$image" >/dev/null
rm -f "$archive"
buildah push -q "$image" "docker-archive:$archive:$image"
