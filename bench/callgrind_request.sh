#!/usr/bin/env bash
# Instructions per request and for start-up, counted by callgrind (deterministic, unlike wall
# time on this shared machine). Usage: bench/callgrind_request.sh [MODULE] [REQUESTS]
# Prints the instructions of start-up (exec to /readyz answered) and the average per execute call
# of MODULE (default hello.wasm) after a warm-up, plus the top functions (inclusive) of the calls.
# Tiering is off so that no background Cranelift compile lands inside the counted calls.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
module=${1:-hello.wasm}
requests=${2:-200}
work=$(mktemp -d); [[ -n ${KEEP:-} ]] && echo "work: $work"
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; wait 2>/dev/null; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
echo bench-token > "$work/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
body='{"workflow":{"metadata":{"name":"bench","namespace":"default","uid":"bench-uid"}},
"template":{"name":"bench","plugin":{"wasm":{"module":{"path":"'"$module"'"}}}}}'
call() {
  curl -sf -o /dev/null -H "Authorization: Bearer bench-token" -H "Content-Type: application/json" \
    -d "$body" "http://127.0.0.1:$port/api/v1/template.execute"
}
valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" --trace-children=no \
  "$build/wasm-workflows-plugin" serve --port "$port" --module-dir "$build/modules" \
  --fs-cache-dir "$work/cache" --token-file "$work/token" --log-level warn --tiered-compilation=false 2>"$work/valgrind.log" &
server=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.05; done
callgrind_control -d startup "$server" >/dev/null
for _ in 1 2 3 4 5; do call; done  # compile, fill caches
callgrind_control -z "$server" >/dev/null
for _ in $(seq "$requests"); do call; done
callgrind_control -d requests "$server" >/dev/null
kill -INT "$server"; wait "$server" 2>/dev/null || true; server=
startup=$(ls "$work"/cg.*.1 2>/dev/null | head -1)
calls=$(ls "$work"/cg.*.2 2>/dev/null | head -1)
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1; exit}'; }
echo "start-up (exec to ready): $(total "$startup") instructions"
per=$(( $(total "$calls") / requests ))
echo "$module: $per instructions per execute call (average of $requests)"
callgrind_annotate --inclusive=yes "$calls" 2>/dev/null | sed -n '/^Ir/,$p' | head -${TOP:-40}
