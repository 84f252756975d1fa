#!/usr/bin/env bash
# Runs every benchmark of the plugin on this machine and prints the figures docs/benchmarks.md
# quotes, each next to its floor measured in the same run (this machine is noisy: compare ratios).
# Requires a release build (scripts/build.sh release). Takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
bin="$build/wasm-workflows-plugin"
modules="$build/modules"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
# wrk_run CONCURRENCY SECONDS MODULE -> the summary line of bench/agent_request.lua
wrk_run() {
  WWP_MODULE=$3 wrk -t "$(($1 < 2 ? 1 : 2))" -c "$1" -d "$2s" --latency -s bench/agent_request.lua \
    "http://127.0.0.1:$port" | tail -1
}

echo "== start to ready (floor: exec of \`version\`, the dynamic loader and static constructors)"
"$build/bench/startup_bench" "$bin" 20

echo "== in-process step costs (Google Benchmark)"
"$build/bench/engine_bench" --benchmark_min_time=1 --benchmark_format=console 2>&1 | grep -E "^BM_|Benchmark"

echo "== tracing: hot step with tracing off (floor), to a closed port, to a blackhole collector"
"$build/bench/tracing_bench" --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_format=console 2>&1 | grep -E "^BM_.*(median|stddev)"

echo "== OCI pulls: cold, warm, hot, 16 concurrent cold callers (real docker-registry on loopback)"
"$build/tests/oci/oci_registry_tests" --gtest_filter='*Benchmark*' --gtest_also_run_disabled_tests 2>&1 |
  grep -vE "^\[|^Note:|^$" || true

echo "== HTTP (wrk on loopback, the agent's exact call); floor: GET /healthz on the same server"
echo bench-token > "$work/token"
port=39999
"$bin" serve --port $port --module-dir "$modules" --fs-cache-dir "$work/cache" \
  --token-file "$work/token" --log-level warn &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
rss() { awk '/VmRSS/ {printf "%.1f MiB\n", $2/1024}' "/proc/$server/status"; }
echo "idle RSS: $(rss)"
for m in hello.wasm legacy_c.wasm; do wrk_run 16 2 "$m" >/dev/null; done  # compile, fill caches
printf "%-22s %-68s %s\n" "figure" "wrk summary" "vs floor"
floor1=$(wrk_run 1 5 healthz); floor16=$(wrk_run 16 5 healthz)
printf "%-22s %-68s %s\n" "healthz c=1" "$floor1" "1.00x"
printf "%-22s %-68s %s\n" "healthz c=16" "$floor16" "1.00x"
for m in hello.wasm legacy_c.wasm; do
  one=$(wrk_run 1 5 "$m")
  printf "%-22s %-68s %s\n" "${m%.wasm} c=1" "$one" \
    "p50 $(ratio "$(echo "$one" | field p50_us)" "$(echo "$floor1" | field p50_us)") of healthz"
  many=$(wrk_run 16 5 "$m")
  [[ $m == hello.wasm ]] && echo "RSS under load: $(rss)"
  printf "%-22s %-68s %s\n" "${m%.wasm} c=16" "$many" \
    "rps $(ratio "$(echo "$many" | field rps)" "$(echo "$floor16" | field rps)") of healthz"
done
kill $server; wait $server 2>/dev/null || true

if [[ -f "$modules/yq.wasm" ]]; then
  echo "== first step of a 28 MB Go module (yq), empty cache, through the server: tiered vs Cranelift only"
  # first_step [serve flags...] -> seconds from the agent's call to its reply, on an empty cache
  first_step() {
    rm -rf "$work/yqcache"
    "$bin" serve --port $port --module-dir "$modules" --fs-cache-dir "$work/yqcache" \
      --token-file "$work/token" --log-level warn "$@" &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
    curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer bench-token" \
      -d '{"workflow":{"metadata":{"name":"b","namespace":"d","uid":"yq-'"$RANDOM"'"}},
           "template":{"name":"yq","plugin":{"wasm":{"module":{"path":"yq.wasm"},
           "args":[".a","-"],"stdin":"a: 1\n"}}}}' "http://127.0.0.1:$port/api/v1/template.execute"
    kill $pid; wait $pid 2>/dev/null || true
  }
  tiered=$(first_step)
  cranelift=$(first_step --tiered-compilation=false)
  echo "yq first step: tiered ${tiered}s, Cranelift only ${cranelift}s" \
       "($(ratio "$cranelift" "$tiered") faster tiered)"
fi
