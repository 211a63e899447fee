#!/usr/bin/env bash
# `make dev`: local stack, table, demo partners, then the HTTP functions on their production paths on
# one origin (`devtool gateway`: /console/, /admin/*, /api/*, /portal/*, /webhooks/stripe, as API
# Gateway passes them) and the event functions under `cargo lambda watch` (the stream and bus
# pipeline and `cargo lambda invoke` use it). Leaves the work tree as it found it: everything it
# writes goes under .local/. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.local/dev
py=.venv/bin/python
mkdir -p "$state"

"$py" infra/local/stack.py up "$state"
trap '"$py" infra/local/stack.py down "$state"' EXIT

set -a
# shellcheck disable=SC1091
. infra/local/local.env
# shellcheck disable=SC1090
. "$state/stack.env"
set +a
# PARTNER_PORTAL_URL is the local page's (below, once the port is known).
cat infra/local/local.env "$state/stack.env" | grep -E '^[A-Z_]+=' | grep -v '^PARTNER_PORTAL_URL=' > "$state/functions.env"

cargo build --workspace --quiet
target/debug/devtool create-table
target/debug/devtool seed infra/seed/demo-partners.json
target/debug/devtool stripe-demo infra/seed/demo-partners.json "$state/stripe-customers.json"
token=$(target/debug/devtool token admin-local 12)
# The API samples in events/ carry tokens that live 12 h: signed copies go under .local/ (the tracked
# files stay as they are).
rm -rf "$state/events" && mkdir -p "$state/events"
cp events/*.json "$state/events/"
target/debug/devtool sample-tokens "$state/events"
# A partner user of a free demo partner, for the portal.
portal_partner=keystone-payroll
partner_token=$(target/debug/devtool partner-token "$portal_partner" "keystone-owner" 12)
# SES sender, email dead-letter queue, the email rule's queue; the functions learn the DLQ's url.
"$py" infra/local/pipeline.py setup >> "$state/functions.env"

port=${DEV_PORT:-9000}
if ! "$py" -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
  port=$("$py" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
fi
# The event functions (and `cargo lambda invoke`) on a port of their own.
lambda_port=$("$py" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
origin="http://127.0.0.1:$port"
base="$origin"
portal="$origin"
# The partner portal page on this origin (every email and sign-in link lands there), and Stripe.js from
# the local stack (the project's fake, served by the localstripe compatibility layer).
export PARTNER_PORTAL_URL="$origin/partner/billing" LOCAL_STRIPE_JS_URL="$STRIPE_API_BASE/js.stripe.com/v3/"
{ echo "PARTNER_PORTAL_URL=$PARTNER_PORTAL_URL"; echo "LOCAL_STRIPE_JS_URL=$LOCAL_STRIPE_JS_URL"; } >> "$state/functions.env"
echo "$token" > "$state/admin-token"
echo "$partner_token" > "$state/partner-token"
console_link="$origin/console/#token=$token"
echo "$console_link" > "$state/console-link"

# The HTTP functions behind their template routes, as API Gateway passes them.
(set -a; . "$state/functions.env"; set +a; exec target/debug/devtool gateway "$port") > "$state/gateway.log" 2>&1 &
gateway=$!
trap 'kill $gateway 2>/dev/null; "$py" infra/local/stack.py down "$state"' EXIT
for _ in $(seq 1 100); do
  (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# localstripe -> stripe-webhook (signed deliveries to the gateway's /webhooks/stripe), and the tiers' plans.
"$py" infra/local/pipeline.py stripe "$port" "$origin/webhooks/stripe" "$state/stripe-customers.json"

# A sign-in link for the demo partner's contact, as a partner gets it (POST /portal/sign-in, then the
# mail moto's SES took). It works once, for 15 minutes; the page asks for a new one after that.
portal_link=$("$py" infra/local/pipeline.py sign-in-link "$origin" support@keystonepay.example)
echo "$portal_link" > "$state/portal-link"

cat <<TXT

Admin console (this link signs in for 12 h; the token is in the fragment, which no server sees):
  $console_link

Partner portal page, signed in as the demo partner $portal_partner (a sign-in link as the email
carries it: single use, 15 minutes; afterwards ask for a new link there with support@keystonepay.example,
and read it in moto's SES, below; pay with 4242 4242 4242 4242, any future date, any CVC):
  $portal_link

Power100 partner payments is running locally, on production paths on one origin ($origin).
  admin API     $base/admin/...  and  $base/api/partners/...
  DynamoDB etc. $AWS_ENDPOINT_URL  (moto; sent mail and events: $AWS_ENDPOINT_URL/moto-api/data.json)
  Stripe        $STRIPE_API_BASE  (localstripe)
  partner portal $portal/partner/ (the page)  and  $portal/portal/... (its API)
  Stripe webhook $origin/webhooks/stripe
  admin token   (12 h, also in $state/admin-token)
$token
  partner token (12 h, a user of $portal_partner; also in $state/partner-token)
$partner_token

Try:
  curl -s -H "Authorization: Bearer \$(cat $state/admin-token)" "$base/admin/partners?tier=gold" | python3 -m json.tool
  curl -s -X PATCH -H "Authorization: Bearer \$(cat $state/admin-token)" -H 'Content-Type: application/json' \\
       -d '{"engagement_tier":"gold","reason":"signed Power Gold"}' "$base/api/partners/summit-roofing/engagement-tier" | python3 -m json.tool
  curl -s -H "Authorization: Bearer \$(cat $state/admin-token)" "$base/admin/partners/summit-roofing/history"
  curl -s -H "Authorization: Bearer \$(cat $state/admin-token)" "$base/admin/partners/summit-roofing/audit"
Sample events (any file in events/; the API samples signed afresh in $state/events/):
  PATH=.venv/bin:\$PATH cargo lambda invoke admin-api --data-file $state/events/admin-change-tier.json -A 127.0.0.1 -P $lambda_port
Daily expiry sweep (notices at 30 and 7 days, expiry; a second invoke adds nothing):
  PATH=.venv/bin:\$PATH cargo lambda invoke expiry-sweep --data-file events/scheduled-sweep.json -A 127.0.0.1 -P $lambda_port
Events and email: every change flows on its own (table stream -> outbox-relay -> bus -> email-sender
-> moto's SES; log in $state/pipeline.log). After the PATCH above, the partner's email:
  curl -s $AWS_ENDPOINT_URL/moto-api/data.json | python3 -c 'import json,sys; [print(m["destinations"]["ToAddresses"], m["subject"]) for m in json.load(sys.stdin)["ses"]["Message"]]'
Or by hand: the relay on a stream event, the sender on any events/email-*.json:
  PATH=.venv/bin:\$PATH cargo lambda invoke outbox-relay --data-file events/dynamodb-stream-outbox.json -A 127.0.0.1 -P $lambda_port
  PATH=.venv/bin:\$PATH cargo lambda invoke email-sender --data-file events/email-payment-receipt.json -A 127.0.0.1 -P $lambda_port
Stripe billing, both ways (localstripe, with its compatibility layer, bills the demo partners' cards
and delivers its signed webhooks to stripe-webhook):
  auth="Authorization: Bearer \$(cat $state/admin-token)"; json='Content-Type: application/json'
  curl -s -X POST -H "\$auth" -H "\$json" -d '{"tier":"gold"}' "$base/admin/partners/northstar-marketing/billing"
      # 202: payment_status pending; a second later localstripe's paid invoice grants Power Gold:
  curl -s -H "\$auth" "$base/admin/partners/northstar-marketing"        # engagement_tier gold, billing stripe
  curl -s -X PATCH -H "\$auth" -H "\$json" -d '{"engagement_tier":"platinum"}' "$base/api/partners/northstar-marketing/engagement-tier"
      # upgrade: localstripe now bills price_platinum (prorated invoice paid now)
  curl -s -X POST -H "\$auth" -H "\$json" -d '{"effective":"immediately"}' "$base/admin/partners/northstar-marketing/cancel"
      # free here, subscription canceled at localstripe; see it there:
  curl -s -u sk_test_local_development_only: "$STRIPE_API_BASE/v1/subscriptions?customer=\$(python3 -c 'import json;print(json.load(open("$state/stripe-customers.json"))["northstar-marketing"])')"
  Pause for two months / resume:  POST .../pause {"months":2}, POST .../resume {}
  A change Stripe has not confirmed (202, "stripe_sync") is pushed again by the reconciliation:
  PATH=.venv/bin:\$PATH cargo lambda invoke stripe-reconcile --data-file events/scheduled-reconcile.json -A 127.0.0.1 -P $lambda_port
  Subscriptions made at localstripe directly:
  $py infra/local/pipeline.py subscribe buildpro-crm gold                # paid: payment recorded, invoice stored
  $py infra/local/pipeline.py subscribe techflow-solutions platinum --failing   # SEPA failure: reminder, then downgrade to free
  Signed samples (re-sign first: signatures last 300 s): python3 infra/local/sign-stripe-events.py --out $state/events
  PATH=.venv/bin:\$PATH cargo lambda invoke stripe-webhook --data-file $state/events/stripe-invoice-paid.json -A 127.0.0.1 -P $lambda_port
Partner portal (the partner is the token's; $portal_partner starts on the free tier):
  pauth="Authorization: Bearer \$(cat $state/partner-token)"; json='Content-Type: application/json'
  curl -s -H "\$pauth" "$portal/portal/me" | python3 -m json.tool
  curl -s -H "\$pauth" "$portal/portal/tiers"
  curl -s -X POST -H "\$pauth" -H "\$json" -d '{"tier":"gold"}' "$portal/portal/upgrade" | tee $state/upgrade.json
      # 202 payment_required: payment.client_secret is for Stripe Elements. Pay it as the browser would
      # (its PaymentIntent is the part before _secret_), then Stripe's webhook grants Power Gold:
  pi=\$(python3 -c 'import json;print(json.load(open("$state/upgrade.json"))["payment"]["client_secret"].split("_secret_")[0])')
  curl -s -u sk_test_local_development_only: -d payment_method=pm_card_visa "$STRIPE_API_BASE/v1/payment_intents/\$pi/confirm" > /dev/null
  curl -s -H "\$pauth" "$portal/portal/me"             # tier gold, card visa 4242
  curl -s -H "\$pauth" "$portal/portal/invoices"       # the paid first invoice; its PDF: .../invoices/<id>/pdf (302)
  curl -s -X POST -H "\$pauth" -H "\$json" -d '{"reason":"budget moves to field marketing","confirm":true}' "$portal/portal/cancel"
  curl -s -X POST -H "\$pauth" "$portal/portal/cancel/withdraw"
  curl -s -X POST -H "\$pauth" "$portal/portal/payment-method"      # a SetupIntent for a new card
  curl -s -H "\$pauth" "$portal/portal/export" | python3 -m json.tool | head -40
Invoices and revenue (admin): after the two subscriptions above (one paid, one failing),
  curl -s -H "\$auth" "$base/admin/invoices?from=\$(date +%Y-%m-01)" | python3 -m json.tool
  inv=\$(curl -s -H "\$auth" "$base/admin/invoices?status=paid" | python3 -c 'import json,sys;print(json.load(sys.stdin)["invoices"][0]["invoice_id"])')
  failed=\$(curl -s -H "\$auth" "$base/admin/invoices?status=failed" | python3 -c 'import json,sys;print(json.load(sys.stdin)["invoices"][0]["invoice_id"])')
  curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -H "\$auth" "$base/admin/invoices/\$inv/pdf"      # 302 to Stripe's PDF
  curl -s -X POST -H "\$auth" "$base/admin/invoices/\$inv/resend"      # 202; again within the minute: 200, no second email
  curl -s -X POST -H "\$auth" -H "\$json" -d '{"reason":"paid by bank transfer, ref 8812"}' "$base/admin/invoices/\$failed/mark-paid"
  curl -s -X POST -H "\$auth" -H "\$json" -d '{"amount_cents":120000,"reason":"November outage credit"}' "$base/admin/invoices/\$inv/refund"
  curl -s -H "\$auth" "$base/admin/invoices/export.csv?status=partially_refunded"
  curl -s -H "\$auth" "$base/admin/metrics" | python3 -m json.tool       # MRR/ARR, movements, rates, revenue
Subscriptions dashboard:
  curl -s -H "Authorization: Bearer \$(cat $state/admin-token)" "$base/admin/subscriptions?tab=expiring"

Ctrl-C stops the functions and the stack.
TXT

# Stream -> outbox-relay -> bus -> email rule -> email-sender, as in AWS (see pipeline.py).
"$py" infra/local/pipeline.py run "$lambda_port" > "$state/pipeline.log" 2>&1 &
pipeline=$!
trap 'kill $pipeline $gateway 2>/dev/null; "$py" infra/local/stack.py down "$state"' EXIT

PATH="$PWD/.venv/bin:$PATH" cargo lambda watch -A 127.0.0.1 -P "$lambda_port" --env-file "$state/functions.env"
