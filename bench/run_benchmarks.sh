#!/usr/bin/env bash
# Runs every benchmark of the plugin on this machine and prints the figures docs/benchmarks.md
# quotes. Requires a release build (scripts/build.sh release). Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
bin="$build/wasm-workflows-plugin"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== start to ready, idle RSS"
"$build/bench/startup_bench" "$bin" 20

echo "== in-process step costs (Google Benchmark)"
"$build/bench/engine_bench" --benchmark_min_time=1 --benchmark_format=console 2>&1 | grep -E "^BM_|Benchmark"

echo "== OCI pulls: cold, warm, hot, 16 concurrent cold callers (real docker-registry on loopback)"
"$build/tests/oci/oci_registry_tests" --gtest_filter='*Benchmark*' --gtest_also_run_disabled_tests 2>&1 |
  grep -vE "^\[|^Note:|^$" || true

echo "== HTTP: the agent's call for a trivial module, concurrency 16, 10 s (wrk)"
echo bench-token > "$work/token"
port=39999
"$bin" serve --port $port --module-dir "$build/modules" --fs-cache-dir "$work/cache" \
  --token-file "$work/token" --log-level warn &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
rss() { awk '/VmRSS/ {printf "%.1f MiB\n", $2/1024}' "/proc/$server/status"; }
echo "idle RSS: $(rss)"
# Warm-up compiles the module and fills the caches.
wrk -t 2 -c 16 -d 2s -s bench/agent_request.lua "http://127.0.0.1:$port" >/dev/null
wrk -t 2 -c 16 -d 10s --latency -s bench/agent_request.lua "http://127.0.0.1:$port" | tail -1 &
sleep 5
echo "RSS under load: $(rss)"
wait %2 2>/dev/null || wait
echo "== HTTP: concurrency 1 (per-request latency without queueing)"
wrk -t 1 -c 1 -d 5s --latency -s bench/agent_request.lua "http://127.0.0.1:$port" | tail -1
kill $server
