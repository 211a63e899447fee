#!/usr/bin/env bash
# The partner portal page in a real browser against the local stack: Debian's Chromium driven by
# playwright-core (functions/console/web/e2e/portal.test.mjs), the page and the HTTP functions served by
# `devtool gateway` on one origin as in AWS, a table of its own with the demo partners, localstripe
# billing and its webhooks, Stripe.js from the localstripe compatibility layer (our fake), sign-in
# links read from moto's SES. Run by `make test` inside `stack.py run`; the screenshots go to
# $SCREENSHOTS_DIR (default .local/screenshots/; `make screenshots` writes docs/screenshots/).
#   portal_e2e.sh          the browser walks
#   portal_e2e.sh hold     the same stack, left running for a person (prints a sign-in link)
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.local/portal-e2e
mkdir -p "$state"

# shellcheck source=infra/local/gateway_stack.sh
. infra/local/gateway_stack.sh
gateway_stack portal "$state"

export PORTAL_ORIGIN="http://127.0.0.1:$port" PORTAL_ADMIN_TOKEN
PORTAL_ADMIN_TOKEN=$(target/debug/devtool token portal-e2e 2)
case "${1:-test}" in
  hold)
    .venv/bin/python infra/local/pipeline.py sign-in-link "$PORTAL_ORIGIN" support@keystonepay.example
    sleep infinity & wait $!
    ;;
  *)
    node functions/console/web/e2e/portal.test.mjs
    ;;
esac
