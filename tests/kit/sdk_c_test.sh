#!/usr/bin/env bash
# Compiles sdk/c/wwp_module.h natively with warnings as errors (C and C++), runs the C test,
# and checks the result.json it wrote with a real JSON parser.
set -euo pipefail
src=$1 out=$2
mkdir -p "$out" && cd "$out"
cc -std=c11 -Wall -Wextra -Werror -I "$src/sdk/c" -o sdk_c_test "$src/tests/kit/sdk_c_test.c"
c++ -x c++ -std=c++20 -Wall -Wextra -Werror -I "$src/sdk/c" -fsyntax-only "$src/tests/kit/sdk_c_test.c"
rm -rf result.json artifacts-out
./sdk_c_test
python3 - <<'PY'
import json
r = json.load(open("result.json"))
assert r["phase"] == "Failed", r
assert r["message"] == "broken\non purpose", r
assert r["outputs"]["parameters"] == [{"name": "out", "value": "tab\there \"quoted\""}], r
assert r["outputs"]["artifacts"] == [{"name": "output", "path": "artifacts-out/output"}], r
print("result.json ok:", json.dumps(r))
PY
