#!/usr/bin/env bash
# Runs a command beside a local DynamoDB-compatible server (moto), then stops the server.
#   scripts/with-moto.sh PORT COMMAND...   (PORT 0 picks a free loopback port)
# The command sees DYNAMODB_ENDPOINT and AWS_ENDPOINT_URL_DYNAMODB; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$1
shift
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
.venv/bin/python scripts/moto_serial.py 127.0.0.1 "$port" > .moto.log 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
python3 - "$port" <<'PY'
import socket, sys, time
deadline = time.time() + 30
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("moto_server did not start; see .moto.log")
PY
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL_DYNAMODB="$DYNAMODB_ENDPOINT"
echo "moto_server on $DYNAMODB_ENDPOINT" >&2
"$@"
