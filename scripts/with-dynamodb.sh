#!/usr/bin/env bash
# Runs a command beside AWS's DynamoDB Local, then stops the engine.
#   scripts/with-dynamodb.sh PORT COMMAND...   (PORT 0 picks a free loopback port)
# DYNAMODB_DATA=DIR keeps the tables on disk in DIR (make run); unset, they live in memory
# (tests, benchmarks). The command sees DYNAMODB_ENDPOINT and AWS_ENDPOINT_URL_DYNAMODB;
# Ctrl-C stops both. The engine is installed on first use (scripts/dynamodb-local.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
port=$1
shift
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
jar=$(scripts/dynamodb-local.sh)
dir=$(dirname "$jar")
# -sharedDb: one database whatever the access key and region a client signs with.
args=(-port "$port" -sharedDb)
if [ -n "${DYNAMODB_DATA:-}" ]; then
  mkdir -p "$DYNAMODB_DATA"
  args+=(-dbPath "$(cd "$DYNAMODB_DATA" && pwd)")
else
  args+=(-inMemory)
fi
log=target/dynamodb-local.log
mkdir -p target
java -Xss1m -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$jar" "${args[@]}" > "$log" 2>&1 &
engine=$!
trap 'kill "$engine" 2>/dev/null || true; wait "$engine" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
python3 - "$port" "$engine" <<'PY'
import os, socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        try:
            os.kill(int(sys.argv[2]), 0)
        except OSError:
            sys.exit("DynamoDB Local exited at start; see target/dynamodb-local.log")
        time.sleep(0.1)
sys.exit("DynamoDB Local did not answer within 60 s; see target/dynamodb-local.log")
PY
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL_DYNAMODB="$DYNAMODB_ENDPOINT"
echo "DynamoDB Local on $DYNAMODB_ENDPOINT (${DYNAMODB_DATA:-in memory})" >&2
"$@"
