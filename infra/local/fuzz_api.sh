#!/usr/bin/env bash
# The API descriptions against the running functions: schemathesis (`--checks all`, positive and
# negative data, fixed seed) on each description in infra/api/, through `devtool gateway` (the HTTP
# functions behind their template routes, as API Gateway passes them) on a stack of its own.
# Run by `make test` (EXAMPLES=25) and `make check-api` (EXAMPLES=250) inside `stack.py run`;
# `fuzz_api.sh record` (make api-examples) records the API samples' real answers as the descriptions'
# examples instead (infra/api/record_examples.py).
# A failure prints the curl command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/../.."
examples=${EXAMPLES:-25}
seed=${FUZZ_SEED:-20261125}
state=.local/fuzz
mkdir -p "$state"

# shellcheck source=infra/local/gateway_stack.sh
. infra/local/gateway_stack.sh
gateway_stack fuzz "$state"
admin_token=$(target/debug/devtool token fuzz-admin 1)
partner_token=$(target/debug/devtool partner-token keystone-payroll fuzz-partner 1)
# Sign-out refuses the token it is called with: it is fuzzed with a token of its own.
sign_out_token=$(target/debug/devtool partner-token keystone-payroll fuzz-sign-out 1)
echo "$admin_token" > "$state/admin-token"
echo "$partner_token" > "$state/partner-token"

if [ "${1:-}" = record ]; then
  .venv/bin/python infra/api/record_examples.py "http://127.0.0.1:$port" "$admin_token" "$partner_token"
  exit 0
fi

# One worker: hypothesis parses lambda sources with `ast.parse`, which CPython 3.11 cannot run on two
# threads at once (SystemError: AST constructor recursion depth mismatch).
status=0
run() {
  local description=$1 token=$2
  shift 2
  echo "== schemathesis: $description $* ($examples examples per operation, seed $seed)"
  local auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  .venv/bin/schemathesis --config-file infra/api/schemathesis.toml run "infra/api/$description" --url "http://127.0.0.1:$port" \
    --checks all --mode all --max-examples "$examples" --seed "$seed" --workers 1 \
    --suppress-health-check too_slow,filter_too_much \
    --report junit --report-dir "$state/reports" \
    "${auth[@]}" "$@" || status=1
}
run admin-api.openapi.yaml "$admin_token"
run partner-portal.openapi.yaml "$partner_token" --exclude-path /portal/sign-out
run partner-portal.openapi.yaml "$sign_out_token" --include-path /portal/sign-out
run stripe-webhook.openapi.yaml ""
if [ $status -ne 0 ]; then
  cat <<TXT
A failure above prints the curl that reproduces it, with the token shown as [Filtered]: use
"Authorization: Bearer \$(cat $state/admin-token)" (or partner-token for the portal) against a stack of
your own (make dev serves the same functions; devtool gateway PORT serves them as here).
TXT
fi
exit $status
