#!/usr/bin/env bash
# The console in a real browser against the local stack: Debian's Chromium driven by playwright-core
# (functions/console/web/e2e/), the pages and the HTTP functions served by `devtool gateway` on one
# origin as in AWS, a table of its own with the demo partners, localstripe billing and its webhooks.
# Run by `make test` inside `stack.py run`; the screenshots go to $SCREENSHOTS_DIR (default
# .local/screenshots/; `make screenshots` writes the committed ones in docs/screenshots/).
#   console_e2e.sh          the browser tests
#   console_e2e.sh bench    the tier-change walk, timed, and the time to a usable partner list (make bench)
#   console_e2e.sh hold     the same stack, left running for a person (prints the sign-in link)
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.local/console-e2e
mkdir -p "$state"

# shellcheck source=infra/local/gateway_stack.sh
. infra/local/gateway_stack.sh
gateway_stack console "$state"
admin_token=$(target/debug/devtool token console-e2e 2)

export CONSOLE_ORIGIN="http://127.0.0.1:$port" CONSOLE_ADMIN_TOKEN="$admin_token"
case "${1:-test}" in
  hold)
    echo "$CONSOLE_ORIGIN/console/#token=$admin_token"
    sleep infinity & wait $!
    ;;
  bench)
    node functions/console/web/e2e/bench.mjs
    ;;
  *)
    node functions/console/web/e2e/console.test.mjs
    ;;
esac
