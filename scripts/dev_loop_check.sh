#!/usr/bin/env bash
# The newcomer's loop, checked as they would run it: `make help` names every target, and
# `make run` answers with its ready line, and `make invoke` reaches the instance curl reaches
# (one store: a user created with curl is the user the invoked event reads), and on both
# stores two organizations' SCIM tokens never reach each other's users
# (scripts/organizations.py), and a signed-in person reaches their own record and nothing
# else (scripts/sign_in.py, with its own test issuer).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== make help names every target"
targets=$(sed -n 's/^\.PHONY: *//p' Makefile)
help=$(make --no-print-directory help)
for t in $targets; do
  grep -qE "^make $t( |$)" <<< "$help" || { echo "make help does not list '$t'" >&2; exit 1; }
done

# Waits for `make run`'s ready line in $log; a run that ends first fails the check.
wait_ready() {
  for _ in $(seq 1 300); do
    grep -q '^ready: ' "$log" && return 0
    kill -0 "$run" 2> /dev/null || { cat "$log"; exit 1; }
    sleep 1
  done
}

echo "== make run, curl, make invoke: one instance"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
# The sign-in scenario's test issuer (scripts/sign_in.py serves it while it runs).
issuer=$(free_port)
export OIDC_ISSUER="http://127.0.0.1:$issuer" OIDC_AUDIENCE=users-app
log=$(mktemp)
setsid make --no-print-directory run PORT="$port" > "$log" 2>&1 &
run=$!
trap 'kill -- -"$run" 2>/dev/null || true; rm -f "$log"' EXIT
wait_ready
grep "^ready: http://127.0.0.1:$port (store memory, keys dev-write-key / dev-read-key)" "$log"
bubble=$(python3 -c 'import json; print(json.load(open("events/05-get-by-bubble-id-200.json"))["rawPath"].split("/")[-1])')
id=$(curl -sf -X POST "http://127.0.0.1:$port/users/$bubble" -H 'authorization: dev-write-key' \
  -H 'content-type: application/json' -d '{"firstName": "Curl"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
answer=$(make --no-print-directory invoke PORT="$port" EVENT=events/05-get-by-bubble-id-200.json)
grep -q '^HTTP 200 OK$' <<< "$answer" || { echo "$answer" >&2; exit 1; }
grep -q "\"id\": \"$id\"" <<< "$answer" || { echo "make invoke read another store: $answer" >&2; exit 1; }
echo "make invoke read the user curl created ($id)"

echo "== two organizations, two SCIM tokens, against make run (embedded store)"
.venv/bin/python scripts/organizations.py "http://127.0.0.1:$port" dev-write-key | tee "$log.orgs"
scripts/count.sh organizations-memory "$(grep -c '^ok: ' "$log.orgs")" 0

echo "== a signed-in person's own record, with a test issuer's tokens, against make run (embedded store)"
.venv/bin/python scripts/sign_in.py "http://127.0.0.1:$port" dev-write-key "$issuer" users-app | tee "$log.orgs"
scripts/count.sh sign-in-memory "$(grep -c '^ok: ' "$log.orgs")" 0

echo "== make run STORE=dynamodb with EVENTS_URL: a listener gets each change, in order"
kill -- -"$run" 2>/dev/null || true
wait "$run" 2>/dev/null || true
port=$(free_port)
listen=$(free_port)
data=$(mktemp -d)
heard=$(mktemp)
# The README's one-line listener, writing to a file with each event's arrival time.
python3 -u -c '
import http.server, json, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        print(json.dumps({"at": time.time(), "event": event}), flush=True)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$listen" > "$heard" &
listener=$!
: > "$log"
setsid make --no-print-directory run PORT="$port" STORE=dynamodb DYNAMODB_PORT="$(free_port)" \
  DYNAMODB_DATA="$data" EVENTS_URL="http://127.0.0.1:$listen/" > "$log" 2>&1 &
run=$!
trap 'kill -- -"$run" 2>/dev/null || true; kill "$listener" 2>/dev/null || true; rm -rf "$log" "$data" "$heard"' EXIT
wait_ready
grep '^ready: ' "$log"
sent=$(mktemp)
write() {
  curl -sf -o /dev/null -X "$1" "http://127.0.0.1:$port$2" -H 'authorization: dev-write-key' \
    -H 'content-type: application/json' ${3:+-d "$3"}
  date +%s.%N >> "$sent"
}
write POST /users/events-check '{"email": "listener@example.com"}'
write PATCH /users/events-check '{"firstName": "Heard"}'
write PATCH /users/events-check '{"firstName": "Heard"}'
write DELETE /users/events-check
python3 - "$heard" "$sent" <<'PY'
import json, sys, time
deadline = time.time() + 30
while time.time() < deadline:
    heard = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    if len(heard) >= 3:
        break
    time.sleep(0.2)
sent = [float(l) for l in open(sys.argv[2])]
got = [(h["event"]["detail-type"], h["event"]["detail"]["version"]) for h in heard]
want = [("UserCreated", 1), ("UserUpdated", 2), ("UserDeleted", 3)]
if got != want:
    sys.exit(f"the listener heard {got}, expected {want}")
if "listener@example.com" in json.dumps(heard):
    sys.exit("an event carries the e-mail address")
# The no-op third write made no event: each event's delay is from its own write.
delays = [h["at"] - s for h, s in zip(heard, [sent[0], sent[1], sent[3]])]
print("the listener heard " + ", ".join(f"{t} v{v}" for t, v in got)
      + "; delivered " + ", ".join(f"{d:.2f}" for d in delays) + " s after each write")
PY
rm -f "$sent"

echo "== two organizations, two SCIM tokens, against make run STORE=dynamodb (4 instances)"
.venv/bin/python scripts/organizations.py "http://127.0.0.1:$port" dev-write-key | tee "$log.orgs"
scripts/count.sh organizations-dynamodb "$(grep -c '^ok: ' "$log.orgs")" 0

echo "== a signed-in person's own record against make run STORE=dynamodb (4 instances)"
.venv/bin/python scripts/sign_in.py "http://127.0.0.1:$port" dev-write-key "$issuer" users-app | tee "$log.orgs"
scripts/count.sh sign-in-dynamodb "$(grep -c '^ok: ' "$log.orgs")" 0
rm -f "$log.orgs"
scripts/count.sh dev-loop "$(grep -c "^echo \"== " "$0")" 0
