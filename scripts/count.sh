#!/usr/bin/env bash
# Records how many checks one step of make test ran, for the total line it ends on:
#   scripts/count.sh NAME PASSED FAILED   (appends to target/test-counts)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
printf '%s %d %d\n' "$1" "$2" "$3" >> target/test-counts
