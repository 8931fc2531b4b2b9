#!/usr/bin/env bash
# The newcomer's loop, checked as they would run it: `make help` names every target, and
# `make run` answers with its ready line, and `make invoke` reaches the instance curl reaches
# (one store: a user created with curl is the user the invoked event reads).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== make help names every target"
targets=$(sed -n 's/^\.PHONY: *//p' Makefile)
help=$(make --no-print-directory help)
for t in $targets; do
  grep -qE "^make $t( |$)" <<< "$help" || { echo "make help does not list '$t'" >&2; exit 1; }
done

echo "== make run, curl, make invoke: one instance"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
setsid make --no-print-directory run PORT="$port" > "$log" 2>&1 &
run=$!
trap 'kill -- -"$run" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  grep -q '^ready: ' "$log" && break
  kill -0 "$run" 2> /dev/null || { cat "$log"; exit 1; }
  sleep 1
done
grep "^ready: http://127.0.0.1:$port (store memory, keys dev-write-key / dev-read-key)" "$log"
bubble=$(python3 -c 'import json; print(json.load(open("events/05-get-by-bubble-id-200.json"))["rawPath"].split("/")[-1])')
id=$(curl -sf -X POST "http://127.0.0.1:$port/users/$bubble" -H 'authorization: dev-write-key' \
  -H 'content-type: application/json' -d '{"firstName": "Curl"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
answer=$(make --no-print-directory invoke PORT="$port" EVENT=events/05-get-by-bubble-id-200.json)
grep -q '^HTTP 200 OK$' <<< "$answer" || { echo "$answer" >&2; exit 1; }
grep -q "\"id\": \"$id\"" <<< "$answer" || { echo "make invoke read another store: $answer" >&2; exit 1; }
echo "make invoke read the user curl created ($id)"
