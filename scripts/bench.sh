#!/usr/bin/env bash
# make bench: cold start and footprint against a hello-world binary, the list benchmark on
# both stores, the sync benchmark, then the load check. Prints the figures the README's
# "Performance" section quotes. COLD_START_ONLY=1 stops after the cold-start section.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk > /dev/null; then
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) > /dev/null
fi
cargo build --release --examples --bin users-api
echo "== cold start and footprint (fake Runtime API; hello-world and users-api from this build)"
scripts/with-dynamodb.sh 0 target/release/examples/cold_start \
  target/release/examples/hello_lambda target/release/users-api
echo "== binaries (stripped, x86_64 here; make build gives the arm64 bootstrap)"
stat -c '%s bytes  %n' target/release/examples/hello_lambda target/release/users-api
if [ "${BENCH_ARM64:-1}" = 1 ]; then
  rustup target add aarch64-unknown-linux-gnu > /dev/null
  cargo lambda build --release --arm64 --bin users-api > /dev/null
  stat -c '%s bytes  %n (arm64)' target/lambda/users-api/bootstrap
fi
[ "${COLD_START_ONLY:-0}" = 1 ] && exit 0
echo "== list benchmark (page size 100, one user in four soft-deleted)"
target/release/examples/list_bench memory "${BENCH_MEMORY_USERS:-100000}" 100
scripts/with-dynamodb.sh 0 target/release/examples/list_bench dynamodb "${BENCH_DYNAMO_USERS:-10000}" 100
echo "== sync benchmark (batch upserts against single upserts, DynamoDB store)"
scripts/with-dynamodb.sh 0 target/release/examples/sync_bench "${BENCH_SYNC_USERS:-10000}"
echo "== a mirror's initial sync: one cursor against parallel segments, pages of 100 and 1,000, plain and gzip"
RUST_LOG=warn POWERTOOLS_METRICS_DISABLED=true \
  scripts/with-dynamodb.sh 0 target/release/examples/mirror_bench "${BENCH_MIRROR_USERS:-100000}"
echo "== change events (stream followed on the local engine; a sink call is one PutEvents on AWS)"
scripts/with-dynamodb.sh 0 target/release/examples/events_bench "${BENCH_EVENT_USERS:-1000}"
echo "== leak check (lambda_http conversion + router, in process)"
STORE=memory RUST_LOG=warn POWERTOOLS_METRICS_DISABLED=true RATE_LIMIT_RPS=100000 RATE_LIMIT_BURST=100000 \
  API_KEYS="dev-write:write:2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309,dev-read:read:bb22af3bbb7413af1d7c8f58b0a8c03350ab86a93e30cb92eb5021f477294ace" \
  target/release/examples/leakcheck
echo "== load check (wrk, 2 threads, 8 connections, ${LOAD_SECONDS:-20} s per run)"
scripts/load.sh watch
scripts/load.sh serve
