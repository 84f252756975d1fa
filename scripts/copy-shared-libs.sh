#!/usr/bin/env bash
# Copies the shared libraries a binary's dynamic loader resolves (and the loader itself) into ROOT
# at the paths they have on this machine, for a `scratch` image:
#
#   scripts/copy-shared-libs.sh [--arch amd64|arm64] BINARY ROOT
#
# amd64 asks `ldd`; arm64 the arm64 loader under qemu-user (the multiarch directories). Prints the
# number of files copied; fails when the loader lists none (a binary of another architecture).
set -euo pipefail
arch=amd64
if [[ ${1:-} == --arch ]]; then arch=$2; shift 2; fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--arch amd64|arm64] BINARY ROOT" >&2
  exit 2
fi
binary=$(realpath "$1")
root=$2
case "$arch" in
  amd64) list_libs=(ldd "$binary") ;;
  arm64) list_libs=(qemu-aarch64 /lib/ld-linux-aarch64.so.1 --list "$binary") ;;
  *) echo "copy-shared-libs: unknown arch $arch" >&2; exit 2 ;;
esac
# Every line of the loader's list with a path: "libx.so.1 => /path (0x...)" or "/lib64/ld-... (0x...)".
mapfile -t libs < <("${list_libs[@]}" | awk '/=> \// {print $3} /^[ \t]*\// {print $1}' | sort -u)
if ((${#libs[@]} == 0)); then
  echo "copy-shared-libs: no shared libraries listed for $binary (is it built for $arch?)" >&2
  exit 1
fi
for lib in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
echo "${#libs[@]}"
