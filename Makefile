# Two commands on a fresh machine (Rust, Python 3, Node.js with npm, and make; Chromium for the
# browser tests is installed here with apt-get):
#   make dev    local stack + demo data + the HTTP functions and the console on production paths on one
#               origin (devtool gateway), the event functions under cargo lambda watch
#   make test   fmt, clippy, the code's shape (infra/checks/structure.py), unit and integration tests against the emulators, cfn-lint, checkov scan,
#               API spec check, API fuzzing (schemathesis) against the functions, the console's type
#               check, component tests and browser tests (Chromium against the local stack)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: dev test venv toolchain release bench-sweep stop clean check-api api-examples bench package web chromium screenshots

## Project-local Python tools: moto, localstripe, cargo-lambda (with zig), cfn-lint.
venv: $(INSTALLED)
$(INSTALLED): infra/local/requirements.txt
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	@touch $@

toolchain:
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

## The pages (functions/console/web: the admin console and the partner portal): `npm ci` from
## package-lock.json when it changed, then the clients generated from infra/api/admin-api.openapi.yaml
## and partner-portal.openapi.yaml, the type check and Vite's builds when a source changed. Built
## before cargo: the console function embeds dist/ and dist-partner/ (a placeholder page without them,
## so cargo alone still builds).
WEB := functions/console/web
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_DIST := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/partner $(WEB)/shared -type f ! -name '*.test.*' ! -name schema.d.ts 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/vite.partner.config.ts $(WEB)/tsconfig.json $(WEB)/package.json \
	$(WEB)/scripts/gzip.mjs infra/api/admin-api.openapi.yaml infra/api/partner-portal.openapi.yaml

$(WEB_DEPS): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --loglevel=error
	@touch $@

$(WEB_DIST): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build

web: $(WEB_DIST)

## The console's and the partner portal's browser tests again, writing the committed screenshots
## (docs/screenshots/).
screenshots: venv web chromium
	cargo build --quiet -p devtool
	SCREENSHOTS_DIR=docs/screenshots $(PY) infra/local/stack.py run -- bash infra/local/console_e2e.sh
	SCREENSHOTS_DIR=docs/screenshots $(PY) infra/local/stack.py run -- bash infra/local/portal_e2e.sh

## Debian's Chromium for the browser tests (Playwright's own browser downloads cannot be fetched).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: venv toolchain web chromium
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	python3 infra/checks/structure.py --self-test
	python3 infra/checks/structure.py
	$(PY) infra/local/stack.py run -- cargo test --workspace
	$(PY) infra/local/check_localstripe_compat.py
	STRIPE_REQUESTS_OUT=$(CURDIR)/.local/stripe-requests.json cargo test --quiet -p admin-api --test stripe_conformance && $(PY) infra/local/check_stripe_requests.py --self-test && $(PY) infra/local/check_stripe_requests.py .local/stripe-requests.json
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) infra/bench/cost_model.py --self-check
	@$(MAKE) --no-print-directory scan
	$(VENV)/bin/openapi-spec-validator infra/api/*.openapi.yaml
	cargo build --quiet -p devtool
	EXAMPLES=25 $(PY) infra/local/stack.py run -- bash infra/local/fuzz_api.sh
	cd $(WEB) && npm run --silent gen && npx tsc --noEmit && npx vitest run
	$(PY) infra/local/stack.py run -- bash infra/local/console_e2e.sh
	$(PY) infra/local/stack.py run -- bash infra/local/portal_e2e.sh

## The API samples' real answers (events/) as the descriptions' response examples.
api-examples: venv
	cargo build --quiet -p devtool
	$(PY) infra/local/stack.py run -- bash infra/local/fuzz_api.sh record

## The API fuzzing of `make test` with 10x the examples (before a release).
check-api: venv
	cargo build --quiet -p devtool
	EXAMPLES=250 $(PY) infra/local/stack.py run -- bash infra/local/fuzz_api.sh

## IaC scan of template.yaml with checkov. It lives in its own venv: checkov pins boto3/botocore
## (and networkx, packaging) far below what moto and cfn-lint use in .venv. Findings that are
## deliberate are suppressed in template.yaml itself (Metadata: checkov: skip, each with its reason).
SCAN_VENV := .venv-scan
CHECKOV_VERSION := 3.3.30
SCAN_INSTALLED := $(SCAN_VENV)/.installed-checkov-$(CHECKOV_VERSION)

$(SCAN_INSTALLED):
	@test -x $(SCAN_VENV)/bin/python || python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@touch $@

.PHONY: scan
scan: $(SCAN_INSTALLED)
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

dev: venv web
	@bash infra/local/dev.sh

## One report: cold start against a hello-world baseline, first invoke, peak memory, bootstrap sizes,
## DynamoDB requests per operation, sweep scaling, the admin API under 8 clients, the monthly cost.
bench: venv web chromium
	@mkdir -p .local/bench && rm -f .local/bench/calls.log
	MOTO_CALL_LOG=$(CURDIR)/.local/bench/calls.log $(PY) infra/local/stack.py run -- $(PY) infra/bench/bench.py

## Sweep scaling: 10,000 and 100,000 partners with the same 1,000 due, against moto.
bench-sweep: venv
	cargo build --workspace
	$(PY) infra/local/stack.py run -- target/debug/devtool bench-sweep 10000 100000

## Stops a `make dev` stack left running (make dev also stops it on exit).
stop:
	@$(PY) infra/local/stack.py down .local/dev

## The deployable build: `sam build` (SAM CLI pinned in its own venv, .venv-sam, since it pins its own
## boto3; cargo-lambda and zig from .venv), then each arm64 bootstrap's size. `make bench` reads them.
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
SAM_INSTALLED := $(SAM_VENV)/.installed-sam-$(SAM_VERSION)

$(SAM_INSTALLED):
	@test -x $(SAM_VENV)/bin/python || python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)
	@touch $@

package: venv web $(SAM_INSTALLED)
	@rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template-file template.yaml
	@ls -l .aws-sam/build/*/bootstrap | awk '{ printf "%-48s %5.2f MB\n", $$9, $$5 / 1e6 }'

## Release bootstraps for Lambda (arm64) with cargo lambda alone (no SAM).
release: venv
	@rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64

clean:
	rm -rf .local target
