#!/usr/bin/env bash
# A template as a new author uses it: build with its one command (make), run its workflow.yaml
# with `wasm-workflows-plugin run`, check the greeting; then check that bad input fails the step
# with the module's message.
set -euo pipefail
lang=$1 src=$2 out=$3 plugin=$4
template="$src/templates/$lang"
mkdir -p "$out"
module="$out/hello-$lang.wasm"
rm -f "$module"
make -C "$template" MODULE="$module"
test -s "$module"

run() { "$plugin" run "$template/workflow.yaml" --module-dir "$out" --fs-cache-dir "$out/cache" "$@"; }

reply=$(run -p name=Ada)
echo "$reply"
REPLY="$reply" python3 - <<'PY'
import json, os
node = json.loads(os.environ["REPLY"])["node"]
assert node["phase"] == "Succeeded", node
params = {p["name"]: p.get("value") for p in node["outputs"]["parameters"]}
assert params.get("greeting") == "Hello, Ada!", params
PY

set +e
reply=$(run -p name=)
code=$?
set -e
echo "$reply"
if [[ $code -ne 1 ]]; then
  echo "an empty name: exit code $code, want 1 (a failed step)" >&2
  exit 1
fi
REPLY="$reply" python3 - <<'PY'
import json, os
node = json.loads(os.environ["REPLY"])["node"]
assert node["phase"] == "Failed", node
assert "input parameter name is missing or empty" in node.get("message", ""), node
PY
echo "template $lang: ok"
