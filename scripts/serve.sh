#!/usr/bin/env bash
# Builds the plugin (installing what is missing) and starts it on an embedded default: local mode,
# a cache under .cache/, the bundled demo modules, no token. Prints an example call.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
port=${PORT:-3000}
cat <<EOT

wasm-workflows-plugin is starting on http://127.0.0.1:$port (Ctrl-C stops it). Try:

  curl -s http://127.0.0.1:$port/api/v1/template.execute -H 'Content-Type: application/json' -d '{
    "workflow": {"metadata": {"name": "demo", "namespace": "default", "uid": "demo-uid"}},
    "template": {"name": "greet",
                 "inputs": {"parameters": [{"name": "who", "value": "Argo"}]},
                 "plugin": {"wasm": {"module": {"path": "greet.wasm"},
                                     "args": ["{{inputs.parameters.who}}"]}}}}'

EOT
exec build/wasm-workflows-plugin serve --port "$port" --module-dir build/modules \
  --fs-cache-dir .cache/plugin --insecure-no-token "$@"
