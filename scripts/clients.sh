#!/usr/bin/env bash
# The API as clients no one here wrote see it, against one locally served instance:
#   1. the served /openapi.json passes openapi-spec-validator;
#   2. a Python client generated from it (openapi-python-client) runs a sync scenario
#      (scripts/client_scenario.py);
#   3. schemathesis fuzzes every operation with both auth headers for a bounded time:
#      no 5xx, and every response conforms to the spec;
#   4. scim2-tester checks /scim/v2 against RFC 7643/7644: discovery, CRUD, PATCH add,
#      replace and remove of every mutable attribute, attribute selection. 0 failures.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export STORE=memory CURSOR_SECRET=clients RUST_LOG=warn
export API_KEYS="dev-write:write:2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309"
export RATE_LIMIT_RPS=100000 RATE_LIMIT_BURST=100000
cargo build --quiet --example serve
target/debug/examples/serve "$port" &
server=$!
# The tools keep caches in the working directory: keep them out of the project.
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done
cd "$work"
url="http://127.0.0.1:$port"

echo "== spec: openapi-spec-validator"
curl -sf "$url/openapi.json" > openapi.json
"$root/.venv/bin/openapi-spec-validator" openapi.json
"$root/scripts/count.sh" openapi-spec-validator 1 0

echo "== generated Python client: a sync scenario"
printf 'post_hooks: []\n' > generator.yaml
"$root/.venv/bin/openapi-python-client" generate --path openapi.json --meta none \
  --config generator.yaml --output-path client/users_api_client > generate.log 2>&1 \
  || { cat generate.log; exit 1; }
"$root/.venv/bin/python" "$root/scripts/client_scenario.py" "$url" dev-write-key client | tee scenario.log
"$root/scripts/count.sh" client-scenario "$(grep -c '^ok: ' scenario.log)" 0

echo "== SCIM conformance: scim2-tester"
"$root/.venv-scim/bin/python" "$root/scripts/scim_conformance.py" "$url" dev-write-key > scim.log \
  || { cat scim.log; exit 1; }
grep -E '^(ERROR|SKIPPED)' scim.log || true
tail -n 1 scim.log
read -r scim_passed scim_failed < <(tail -n 1 scim.log | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
"$root/scripts/count.sh" scim2-tester "$scim_passed" "$scim_failed"

echo "== schemathesis"
# positive_data_acceptance is left out: a well-formed but forged cursor (400) or a stale
# If-Match (412) is schema-valid yet rightly refused. Every other check runs.
# Both auth headers carry the key: schemathesis fills each security scheme's header itself,
# and X-API-KEY wins over Authorization, so a header it made up would waste the example on 401.
# --url: the spec's servers name localhost:9000 and the deployed stack, not this port.
# Its last line is pytest-shaped ("=== 2 warnings in 23.30s ==="), which a reader of runner
# output takes for a pytest run of no test: it is left out, and its counts recorded instead.
status=0
timeout 600 "$root/.venv/bin/schemathesis" run "$url/openapi.json" \
  --url "$url" \
  --checks all --exclude-checks positive_data_acceptance --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" --seed 1 --no-color \
  -H "Authorization: dev-write-key" -H "X-API-KEY: dev-write-key" > schemathesis.log 2>&1 || status=$?
grep -vE '^=+ .* in [0-9.]+s =+$' schemathesis.log || true
cases=$(grep -E '^ +[0-9]+ generated' schemathesis.log | tail -n 1)
passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<< "$cases")
failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<< "$cases")
"$root/scripts/count.sh" schemathesis "${passed:-0}" "${failed:-$(( status != 0 ))}"
exit "$status"
