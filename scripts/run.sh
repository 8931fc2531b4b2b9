#!/usr/bin/env bash
# Serves the API on http://localhost:$PORT through `cargo lambda watch`, with the dev keys.
#   STORE=memory (default): the embedded store.
#   STORE=dynamodb: AWS's DynamoDB Local on 127.0.0.1:8000 (unless AWS_ENDPOINT_URL_DYNAMODB
#   points elsewhere), its tables kept on disk in .dynamodb-data/ across restarts (make clean
#   removes them), tables created if missing, served by CONCURRENCY function instances
#   (default 4) as Lambda would: concurrent requests really race. The embedded store lives
#   in one process, so it stays one instance. Beside them the change-event handler follows
#   the table's stream (HANDLER=local-stream): each event is POSTed to EVENTS_URL when set,
#   else logged.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-9000}
export STORE=${STORE:-memory}
# The hashes of dev-write-key and dev-read-key (see README: "Configuration").
export API_KEYS=${API_KEYS:-dev-write:write:2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309,dev-read:read:bb22af3bbb7413af1d7c8f58b0a8c03350ab86a93e30cb92eb5021f477294ace}
export CURSOR_SECRET=${CURSOR_SECRET:-local-development-cursor-secret}
export RUST_LOG=${RUST_LOG:-info}
# The per-request CloudWatch metric lines (EMF) would double the console; on in Lambda.
export POWERTOOLS_METRICS_DISABLED=${POWERTOOLS_METRICS_DISABLED:-true}
# --disable-cors: the emulator would otherwise add its own permissive CORS headers; the
# service sends exactly the ones it would on AWS (none unless CORS_ALLOW_ORIGINS is set).
watch=(cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$PORT")

case "$STORE" in
  memory) keys_line="store memory" ;;
  dynamodb)
    export TABLE_NAME=${TABLE_NAME:-users-local} META_TABLE_NAME=${META_TABLE_NAME:-users-meta-local}
    export CREATE_TABLES=true AWS_REGION=${AWS_REGION:-us-east-1}
    export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
    watch+=(--concurrency "${CONCURRENCY:-4}")
    # The stream handler, as its own process (the same binary), then the API.
    watch=(bash -c 'HANDLER=local-stream target/debug/users-api & exec "$@"' events "${watch[@]}")
    if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
      export DYNAMODB_DATA=${DYNAMODB_DATA:-.dynamodb-data}
      watch=(scripts/with-dynamodb.sh "${DYNAMODB_PORT:-8000}" "${watch[@]}")
      engine="DynamoDB Local on 127.0.0.1:${DYNAMODB_PORT:-8000}"
    else
      engine="DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB"
    fi
    keys_line="store dynamodb, $engine, ${CONCURRENCY:-4} instances, events ${EVENTS_URL:+to $EVENTS_URL}"
    [ -n "${EVENTS_URL:-}" ] || keys_line+="logged"
    ;;
  *)
    echo "STORE must be memory or dynamodb" >&2
    exit 2
    ;;
esac

# Build first, in the open, so nothing listens before it can answer.
echo "building users-api (a fresh clone takes a few minutes)..."
cargo build --bin users-api
trap 'kill 0' INT TERM
"${watch[@]}" &
server=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break
  kill -0 "$server" 2> /dev/null || { wait "$server"; exit $?; }
  sleep 0.5
done
echo "ready: http://127.0.0.1:$PORT ($keys_line, keys dev-write-key / dev-read-key)"
wait "$server"
