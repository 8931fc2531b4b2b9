#!/usr/bin/env bash
# Load check: wrk on loopback against the API for a bounded time. Reports requests/s,
# latency percentiles, non-2xx answers, and the function process's peak and resident memory
# after each of two identical runs (stable memory = no leak).
#   scripts/load.sh watch   the function under `cargo lambda watch --release` (as make run)
#   scripts/load.sh serve   the same router on a plain HTTP server (no emulator)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-watch}
duration=${LOAD_SECONDS:-20}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export STORE=memory CURSOR_SECRET=load RUST_LOG=warn RATE_LIMIT_RPS=100000 RATE_LIMIT_BURST=100000
export API_KEYS="dev-write:write:2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309"
case "$mode" in
  watch)
    cargo lambda watch --release --invoke-address 127.0.0.1 --invoke-port "$port" > target/load-watch.log 2>&1 &
    binary=target/release/users-api ;;
  serve)
    target/release/examples/serve "$port" > target/load-serve.log 2>&1 &
    binary=target/release/examples/serve ;;
  *) echo "mode is watch or serve" >&2; exit 2 ;;
esac
server=$!
trap 'kill "$server" 2>/dev/null || true; pkill -f "^$binary" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do curl -sf "$base/health" > /dev/null && break; sleep 0.5; done
curl -sf "$base/health" > /dev/null || { echo "server did not start" >&2; exit 1; }
curl -sf -X POST "$base/users/load-read" -H 'Authorization: dev-write-key' \
  -H 'Content-Type: application/json' -d '{"firstName":"Read","email":"read@example.com"}' > /dev/null
pid=$(pgrep -f "^$binary" | head -n 1)

memory() {
  awk '/VmHWM|VmRSS/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/$pid/status"
  echo
}

run() {
  local label=$1
  shift
  local out
  out=$(wrk --latency -t2 -c8 -d"${duration}s" "$@")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<< "$out")
  printf '%-8s %-6s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  ' "$mode" "$label" "$rps" "$p50" "$p99" "${errors:-0}"
  memory
  if [ -n "$errors" ] && [ "$errors" != 0 ]; then
    echo "non-2xx answers under load" >&2
    exit 1
  fi
}

for round in 1 2; do
  run "get#$round" -H 'Authorization: dev-write-key' "$base/users/load-read"
  run "upsert#$round" -s scripts/load/upsert.lua "$base"
done
