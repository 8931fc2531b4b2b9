#!/usr/bin/env bash
# make invoke: sends one API Gateway event (EVENT) to the function `make run` serves on PORT,
# through the emulator's invoke API, and prints the answer as HTTP: status, headers, body.
# No function name: the emulator's default function is the instance curl reaches, so both
# share one store.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-9000}
EVENT=${EVENT:-events/02-upsert-seed-200.json}
if ! curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1; then
  echo "nothing answers on http://127.0.0.1:$PORT: start it first with 'make run PORT=$PORT'" >&2
  exit 1
fi
echo "invoking http://127.0.0.1:$PORT with $EVENT"
cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$PORT" \
  --data-file "$EVENT" --output-format json | python3 scripts/show_answer.py
