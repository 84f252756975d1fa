#!/usr/bin/env bash
# Fuzzes one target for longer than the test suite does: scripts/fuzz.sh TARGET [SECONDS]
# (default 600). Targets are tests/fuzz/<target>_fuzz.cpp; `scripts/fuzz.sh list` names them.
# New interesting inputs accumulate in build-fuzz/tests/fuzz/work/<target>/corpus (kept between
# runs); a crash leaves crash-<sha1> there too. To keep one as a regression, copy it into
# tests/fuzz/corpus/<target>/regression-<what>, fix the bug, and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: $0 TARGET [SECONDS] | list}
seconds=${2:-600}
if [[ "$target" == list ]]; then
  ls tests/fuzz/*_fuzz.cpp | sed 's|.*/||; s|_fuzz.cpp||'
  exit 0
fi
[[ -f "tests/fuzz/${target}_fuzz.cpp" ]] || { echo "fuzz: no target $target ($0 list)" >&2; exit 2; }
scripts/build.sh fuzz >/dev/null
work="$PWD/build-fuzz/tests/fuzz/work/$target"
mkdir -p "$work/corpus"
cd "$work"
# One job per core at most; the machine is shared.
exec "$OLDPWD/build-fuzz/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
  "$work/corpus" "$OLDPWD/tests/fuzz/corpus/$target"
