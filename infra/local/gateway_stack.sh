# Sourced by the scripts that drive the HTTP functions end to end (fuzz_api.sh, console_e2e.sh,
# portal_e2e.sh), inside
# `stack.py run`: `gateway_stack NAME STATE` makes a table and a bus of their own (NAME-<pid>), loads
# the demo partners with their localstripe customers, serves every HTTP function on production paths
# with `devtool gateway` on a free port (stopped on exit), and registers localstripe's webhooks there.
# It leaves `port` set.
gateway_stack() {
  local name=$1 state=$2
  set -a
  # shellcheck disable=SC1091
  . infra/local/local.env
  set +a
  export TABLE_NAME="$name-$$"
  export EVENT_BUS_NAME="$name-$$"
  export RUST_LOG=warn

  target/debug/devtool create-table > /dev/null
  target/debug/devtool seed infra/seed/demo-partners.json > /dev/null
  target/debug/devtool stripe-demo infra/seed/demo-partners.json "$state/stripe-customers.json" > /dev/null

  port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  # The partner portal page on this origin (emails and sign-in links land there), Stripe.js from the
  # local stack (our fake, served by the localstripe compatibility layer), and the sender moto's SES
  # takes mail from (the sign-in links).
  export PARTNER_PORTAL_URL="http://127.0.0.1:$port/partner/billing"
  export LOCAL_STRIPE_JS_URL="$STRIPE_API_BASE/js.stripe.com/v3/"
  .venv/bin/python infra/local/pipeline.py sender
  target/debug/devtool gateway "$port" > "$state/gateway.log" 2>&1 &
  gateway_pid=$!
  trap 'kill $gateway_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  # The tiers' prices at localstripe, demo customers with cards that pay, its webhooks to the gateway.
  .venv/bin/python infra/local/pipeline.py stripe "$port" "http://127.0.0.1:$port/webhooks/stripe" \
    "$state/stripe-customers.json" > /dev/null
}
