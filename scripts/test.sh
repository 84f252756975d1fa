#!/usr/bin/env bash
# Builds everything (installing what is missing) and runs every test: the release build's suite,
# then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the libFuzzer
# targets (each replays its committed corpus and fuzzes for a few seconds; scripts/fuzz.sh runs
# one for longer).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
(cd build && ctest --output-on-failure -j 2 --timeout 600)
scripts/build.sh asan
(cd build-asan && ctest --output-on-failure -j 2 --timeout 900 -LE no-asan)
scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -j 2 --timeout 300)
