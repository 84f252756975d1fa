#!/usr/bin/env bash
# Soak test: runs the plugin for a long time (default 10 minutes) under 16
# concurrent agents, each sending a rotating mix of steps that succeed, fail (exit 3), time out
# (an endless loop under a 1s limit), hit their memory limit (16Mi) and move artifacts (an S3
# input and output through a real S3 server, versitygw, on loopback). The agents behave like
# Argo's: a "Running" reply is called again until the step ends.
#
# Reports, after a warm-up round (modules compiled, caches filled) and at the end, and once a
# minute in between: the plugin's RSS, open file descriptors, threads, the files in its cache
# directory and the entries left in its sandbox directory. These must be flat (the sandbox
# directory empty when idle); the script exits 1 when a step ends with the wrong phase, when
# fds, threads or cache files grew, or when a sandbox is left behind.
#
# Usage: bench/soak.sh [SECONDS]; SOAK_CONCURRENCY (16) and SOAK_WARMUP (30 s) adjust it   (needs scripts/build.sh release; BUILD_DIR picks the build)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-${SOAK_SECONDS:-600}}
concurrency=${SOAK_CONCURRENCY:-16}
warmup=${SOAK_WARMUP:-30}
build=${BUILD_DIR:-build}
bin="$build/wasm-workflows-plugin"
modules="$build/modules"
versitygw=${WWP_VERSITYGW:-$HOME/go/bin/versitygw}
for need in "$bin" "$modules/hello.wasm" "$modules/upper.wasm" "$versitygw"; do
  [[ -e "$need" ]] || { echo "soak: $need is missing (scripts/setup.sh, scripts/build.sh release)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/wwp-soak-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# ---- S3 (versitygw's posix backend serves each top-level directory as a bucket) ----
access=soak-access secret=soak-secret-key
s3_port=$(free_port)
mkdir -p "$work/s3/argo"
"$versitygw" --access "$access" --secret "$secret" --port "127.0.0.1:$s3_port" --quiet posix \
  "$work/s3" >"$work/versitygw.log" 2>&1 &
pids+=($!)
wait_port "$s3_port" || { echo "soak: versitygw did not start" >&2; cat "$work/versitygw.log" >&2; exit 1; }
mkdir -p "$work/in" "$work/secrets/s3"
echo "the input of a soak step" >"$work/in/message.txt"
tar -czf "$work/in.tgz" -C "$work/in" message.txt
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" -T "$work/in.tgz" \
  -H "x-amz-content-sha256: $(sha256sum "$work/in.tgz" | cut -d' ' -f1)" \
  "http://127.0.0.1:$s3_port/argo/soak/in.tgz" >/dev/null
printf '%s' "$access" >"$work/secrets/s3/accessKey"
printf '%s' "$secret" >"$work/secrets/s3/secretKey"
cat >"$work/repository.yaml" <<EOF
s3:
  endpoint: 127.0.0.1:$s3_port
  bucket: argo
  region: us-east-1
  insecure: true
  accessKeySecret: {name: s3, key: accessKey}
  secretKeySecret: {name: s3, key: secretKey}
EOF

# ---- the plugin ----
port=$(free_port)
echo soak-token >"$work/token"
"$bin" serve --port "$port" --module-dir "$modules" --fs-cache-dir "$work/cache" \
  --sandbox-dir "$work/sandboxes" --token-file "$work/token" --log-level error \
  --max-concurrency "$concurrency" --artifact-repository "$work/repository.yaml" \
  --artifact-secrets-dir "$work/secrets" >"$work/plugin.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done

# ---- steps: kind -> template, expected phase ----
kinds=(succeed fail timeout memory artifacts)
template() {
  case "$1" in
    succeed) echo '{"name":"ok","plugin":{"wasm":{"module":{"path":"hello.wasm"}}}}' ;;
    fail) echo '{"name":"fail","plugin":{"wasm":{"module":{"path":"exit3.wasm"}}}}' ;;
    timeout) echo '{"name":"slow","plugin":{"wasm":{"module":{"path":"loop.wasm"},"limits":{"timeout":"1s"}}}}' ;;
    memory) echo '{"name":"big","plugin":{"wasm":{"module":{"path":"membomb.wasm"},"limits":{"memory":"16Mi"}}}}' ;;
    artifacts) echo '{"name":"shout","inputs":{"artifacts":[{"name":"message","path":"/tmp/in.txt","s3":{"key":"soak/in.tgz"}}]},"outputs":{"artifacts":[{"name":"shouted","path":"/tmp/out.txt"}]},"plugin":{"wasm":{"module":{"path":"upper.wasm"},"args":["/tmp/in.txt","/tmp/out.txt"]}}}' ;;
  esac
}
expected() { case "$1" in succeed | artifacts) echo Succeeded ;; *) echo Failed ;; esac; }

# run_step KIND UID -> "KIND PHASE" (or "KIND http-<status>"), calling again while Running.
run_step() {
  local body reply status phase
  body='{"workflow":{"metadata":{"name":"soak","namespace":"default","uid":"'"$2"'"}},"template":'"$(template "$1")"'}'
  for _ in $(seq 60); do
    reply=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer soak-token" \
      -H "Content-Type: application/json" -d "$body" "http://127.0.0.1:$port/api/v1/template.execute")
    status=${reply##*$'\n'}
    phase=$(printf '%s' "$reply" | grep -o '"phase":"[A-Za-z]*"' | head -1 | cut -d'"' -f4)
    if [[ $status == 200 && $phase != Running && $phase != Pending ]]; then
      echo "$1 $phase"
      return
    fi
    [[ $status == 200 ]] || { echo "$1 http-$status"; return; }
    sleep 1
  done
  echo "$1 stuck"
}

# What the plugin's descriptors point at, with socket inodes and the soak's own path shortened.
fd_targets() {
  for fd in "/proc/$server/fd"/*; do
    target=$(readlink "$fd" || true)
    if [[ $target =~ ^socket:\[([0-9]+)\]$ ]]; then  # which kind, which ports (hex)
      target=$(awk -v inode="${BASH_REMATCH[1]}" '
        FILENAME ~ /unix$/ && $7 == inode { print "unix socket " ($8 == "" ? "(unnamed)" : $8); found = 1 }
        FILENAME !~ /unix$/ && $10 == inode { split($2, l, ":"); split($3, r, ":");
          print FILENAME " local " l[2] " remote " r[2] " state " $4; found = 1 }
        END { if (!found) print "socket (other)" }' "/proc/$server/net/tcp" "/proc/$server/net/tcp6" \
        "/proc/$server/net/unix")
      target=${target#/proc/$server/net/}
    fi
    echo "$target"
  done | sed -e "s|$work|<work>|" | sort | uniq -c
}
# Sockets owned by the pooled libcurl handles (at most 16 idle handles, src/net/http.cpp): each
# keeps a wake-up socket pair (Unix sockets) and possibly a kept-alive connection to S3. How many
# handles are pooled follows the load's peaks, so these are counted apart from the other fds and
# checked against the pool's bound instead.
socket_inodes() {
  for fd in "/proc/$server/fd"/*; do readlink "$fd" || true; done | sed -n 's/socket:\[\([0-9]*\)\]/\1/p'
}
unix_sockets() {
  awk -v inodes=" $(echo $(socket_inodes)) " 'NR > 1 && index(inodes, " " $7 " ") { n++ } END { print n + 0 }' \
    "/proc/$server/net/unix"
}
s3_connections() {
  awk -v port="$(printf '%04X' "$s3_port")" -v inodes=" $(echo $(socket_inodes)) " \
    'FNR > 1 { split($3, remote, ":"); if (remote[2] == port && index(inodes, " " $10 " ")) n++ }
     END { print n + 0 }' "/proc/$server/net/tcp" "/proc/$server/net/tcp6"
}
snapshot() {  # LABEL -> one line of figures
  local rss fds unix s3 threads cache sandboxes
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server/status")
  fds=$(ls "/proc/$server/fd" | wc -l)
  threads=$(awk '/Threads/ {print $2}' "/proc/$server/status")
  cache=$(find "$work/cache" -type f 2>/dev/null | wc -l)
  # The plugin's own lock (.owner-<id>.lock, which marks its sandboxes as alive) is not a leftover.
  sandboxes=$(find "$work/sandboxes" -mindepth 1 -maxdepth 1 ! -name '.owner-*.lock' 2>/dev/null | wc -l)
  fd_targets >"$work/fds.$1"
  unix=$(unix_sockets)
  s3=$(s3_connections)
  printf "%-6s rss_mib=%-6s fds=%-3s (curl_pool_unix=%-2s s3_conns=%-2s) threads=%-3s cache_files=%-3s sandbox_entries=%s\n" \
    "$1" "$rss" "$fds" "$unix" "$s3" "$threads" "$cache" "$sandboxes"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# worker N UNTIL TAG: steps of rotating kinds until the time UNTIL, results in $work/TAG.N
worker() {
  local n=0
  while (($(date +%s) < $2)); do
    n=$((n + 1))
    run_step "${kinds[$((($1 + n) % ${#kinds[@]}))]}" "$3-$1-$n"
  done >"$work/$3.$1"
}
# run_workers UNTIL TAG: $concurrency workers in the background, their pids in $workers
run_workers() {
  workers=()
  for w in $(seq "$concurrency"); do
    worker "$w" "$1" "$2" &
    workers+=($!)
  done
}

echo "soak: ${duration}s at concurrency $concurrency after ${warmup}s of warm-up, plugin pid $server"
for kind in "${kinds[@]}"; do  # each module once: compiled, caches filled
  result=$(run_step "$kind" "first-$kind")
  [[ $result == "$kind $(expected "$kind")" ]] || { echo "soak: first step gave: $result" >&2; exit 1; }
done
# Then the same load as the soak for a while: pooled connections and handles, background
# optimisation of the modules and per-thread state reach their working size before `start`.
run_workers $(($(date +%s) + warmup)) warmup
wait "${workers[@]}"
sleep 3
start=$(snapshot start)
echo "$start"

end_time=$(($(date +%s) + duration))
run_workers "$end_time" results
minute=0
while (($(date +%s) < end_time)); do
  sleep 5
  if (($(date +%s) >= end_time - duration + (minute + 1) * 60 && $(date +%s) < end_time)); then
    minute=$((minute + 1))
    snapshot "${minute}m"
  fi
done
wait "${workers[@]}"
sleep 3  # let the last steps' cleanup finish
end=$(snapshot end)
echo "$end"

# ---- verdict ----
cat "$work"/results.* >"$work/results"
total=$(wc -l <"$work/results")
echo "steps: $total in ${duration}s ($(awk -v n="$total" -v s="$duration" 'BEGIN {printf "%.1f", n / s}')/s)"
bad=0
for kind in "${kinds[@]}"; do
  want=$(expected "$kind")
  good=$(grep -c "^$kind $want\$" "$work/results" || true)
  all=$(grep -c "^$kind " "$work/results" || true)
  printf "  %-10s %5d steps, %5d %s\n" "$kind" "$all" "$good" "$want"
  if ((good != all)); then
    bad=1
    grep "^$kind " "$work/results" | grep -v " $want\$" | sort | uniq -c | sed 's/^/    unexpected: /'
  fi
done
for f in threads cache_files; do
  a=$(echo "$start" | field "$f") b=$(echo "$end" | field "$f")
  ((b <= a)) || { echo "soak: $f grew from $a to $b" >&2; bad=1; }
done
own_fds() { echo $(($(echo "$1" | field fds) - $(echo "$1" | field curl_pool_unix) - $(echo "$1" | field s3_conns))); }
if (($(own_fds "$end") > $(own_fds "$start"))); then
  echo "soak: fds other than the libcurl pool's grew from $(own_fds "$start") to $(own_fds "$end")" >&2
  diff "$work/fds.start" "$work/fds.end" >&2 || true
  bad=1
fi
(($(echo "$end" | field curl_pool_unix) <= 32 && $(echo "$end" | field s3_conns) <= 16)) ||
  { echo "soak: more libcurl sockets than 16 pooled handles hold" >&2; bad=1; }
[[ $(echo "$end" | field sandbox_entries) == 0 ]] || { echo "soak: sandboxes left behind:" >&2; ls -A "$work/sandboxes" >&2; bad=1; }
echo "descriptors at the end (tcp: hex ports; state 0A listens, 01 established, 08 close-wait):"
sed 's/^/  /' "$work/fds.end"
echo "rss_mib start $(echo "$start" | field rss_mib), end $(echo "$end" | field rss_mib)"
kill -0 "$server" 2>/dev/null || { echo "soak: the plugin died" >&2; tail -20 "$work/plugin.log" >&2; exit 1; }
exit "$bad"
