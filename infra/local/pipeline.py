#!/usr/bin/env python3
"""The event pipeline of `make dev`, wired as AWS wires it, on the local stack.

  pipeline.py setup      verify the SES sender domain, create the email dead-letter queue and a queue
                         fed by the email rule on the local bus; prints EMAIL_DLQ_URL=... for the
                         functions' environment
  pipeline.py sender     only the SES sender domain (the portal mails sign-in links itself)
  pipeline.py sign-in-link ORIGIN EMAIL
                         ask the portal at ORIGIN for a sign-in link for EMAIL and print the link from
                         the mail moto's SES took (make dev prints one for the demo partner)
  pipeline.py stripe PORT
                         register the stripe-webhook function (under `cargo lambda watch` on PORT) as
                         localstripe's webhook endpoint, signed with STRIPE_WEBHOOK_SECRET, and create
                         the tiers' prices (localstripe_compat.py: a price is a plan of that id), and
                         give every demo customer a card that pays, so that the billing routes work
                         for any demo partner
  pipeline.py stripe PORT URL CUSTOMERS
                         the same with the webhook at URL and the customers of CUSTOMERS (API fuzzing)
  pipeline.py subscribe PARTNER gold|platinum [--failing]
                         subscribe a demo partner's localstripe customer (.local/dev/stripe-customers.json)
                         with a card that pays, or a SEPA account that fails
  pipeline.py run PORT   forever: table stream -> outbox-relay, email rule's queue -> email-sender,
                         both invoked through `cargo lambda watch` on 127.0.0.1:PORT

In AWS the stream event source mapping and the EventBridge rule do this; moto has neither a stream
trigger nor Lambda targets, so this loop plays their part. The handlers are the real ones.
Reads the same environment as the functions (infra/local/local.env + the stack's env).
"""
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parseaddr

import boto3

# The detail-types the email rule in template.yaml forwards.
EMAIL_DETAIL_TYPES = [
    "TierChanged", "PaymentSucceeded", "RenewalReminderDue", "SubscriptionExpired", "SubscriptionRenewed",
    "SubscriptionCancelled", "PaymentFailed", "PaymentFailureDowngrade", "InvoiceResendRequested",
    "PaymentRefunded",
]
SOURCE = "power100.partner-payments"
EMAIL_QUEUE = "partner-email-rule-local"
DLQ = "partner-email-dead-letters-local"


def load_dev_environment():
    """Outside `make dev`'s own processes, read the settings it wrote (the stack's ports and all)."""
    path = ".local/dev/functions.env"
    if "STRIPE_API_BASE" in os.environ or not os.path.exists(path):
        return
    for line in open(path):
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name, value.strip().strip('"'))


def client(name):
    return boto3.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def sender():
    """The sender's domain as a verified identity in moto's SES (it refuses to send from others)."""
    sender_domain = parseaddr(os.environ["EMAIL_FROM"])[1].rpartition("@")[2]
    ses = client("sesv2")
    try:
        ses.create_email_identity(EmailIdentity=sender_domain)
    except ses.exceptions.AlreadyExistsException:
        pass


def sign_in_link(origin, email, timeout=10.0):
    """Asks the portal for a sign-in link for `email` and reads it from the mail moto's SES took."""
    request = urllib.request.Request(f"{origin}/portal/sign-in", data=json.dumps({"email": email}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=15) as answer:
        answer.read()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/data.json", timeout=15) as answer:
            messages = json.load(answer).get("ses", {}).get("Message", [])
        for message in reversed(messages):
            if email in message.get("destinations", {}).get("ToAddresses", []):
                found = re.search(r'https?://[^"\s<>]+#code=[A-Za-z0-9_-]{43}', message.get("body", ""))
                if found:
                    return found.group(0)
        time.sleep(0.2)
    raise SystemExit(f"no sign-in link reached moto's SES for {email}")


def setup():
    sender()
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=EMAIL_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = client("events")
    bus = os.environ["EVENT_BUS_NAME"]
    events.put_rule(Name="partner-email", EventBusName=bus,
                    EventPattern=json.dumps({"source": [SOURCE], "detail-type": EMAIL_DETAIL_TYPES}))
    events.put_targets(Rule="partner-email", EventBusName=bus, Targets=[{"Id": "email-queue", "Arn": queue_arn}])
    print(f"EMAIL_DLQ_URL={dlq_url}")


def localstripe(method, path, form=None):
    data = urllib.parse.urlencode(form or {}).encode()
    request = urllib.request.Request(
        os.environ["STRIPE_API_BASE"].rstrip("/") + path, data=data if method != "GET" else None, method=method,
        headers={"Authorization": "Bearer " + os.environ["STRIPE_SECRET_KEY"],
                 "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return {"error": err.read().decode(errors="replace"), "status": err.code}


# Every event type stripe-webhook acts on (shared::stripe::webhook::HANDLED_EVENT_TYPES; a test keeps
# them equal), registered as Stripe's dashboard registers them.
WEBHOOK_EVENTS = ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed", "invoice.created", "invoice.finalized", "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted", "refund.created", "refund.updated", "refund.failed", "charge.refunded", "setup_intent.succeeded", "payment_method.attached", "payment_method.updated", "payment_method.automatically_updated", "customer.updated")


def stripe(port, url=None, customers_file=".local/dev/stripe-customers.json"):
    url = url or f"http://127.0.0.1:{port}/webhooks/stripe"
    registration = {"url": url, "secret": os.environ["STRIPE_WEBHOOK_SECRET"]}
    registration.update({f"events[{i}]": event for i, event in enumerate(WEBHOOK_EVENTS)})
    localstripe("POST", "/_config/webhooks/make-dev", registration)
    for plan, amount in ((os.environ["STRIPE_PRICE_GOLD"], 360000), (os.environ["STRIPE_PRICE_PLATINUM"], 600000)):
        localstripe("POST", "/v1/plans", {"id": plan, "amount": amount, "currency": "usd", "interval": "month",
                                          "product[name]": plan})
    customers = json.loads(open(customers_file).read())
    for customer in customers.values():
        default_payment_method(customer, failing=False)
    print(f"localstripe delivers its webhooks to {url}; {len(customers)} demo customers pay by card")


def default_payment_method(customer, failing):
    """Gives `customer` a default payment method: a card that pays, or a SEPA account that fails."""
    if failing:
        pm = localstripe("POST", "/v1/payment_methods",
                         {"type": "sepa_debit", "sepa_debit[iban]": "DE62370400440532013001"})
    else:
        pm = localstripe("POST", "/v1/payment_methods",
                         {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
                          "card[exp_year]": "2030", "card[cvc]": "123"})
    localstripe("POST", f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer})
    localstripe("POST", f"/v1/customers/{customer}", {"invoice_settings[default_payment_method]": pm["id"]})


def subscribe(partner, tier, failing):
    customers = json.loads(open(".local/dev/stripe-customers.json").read())
    customer = customers[partner]
    default_payment_method(customer, failing)
    plan = os.environ["STRIPE_PRICE_GOLD" if tier == "gold" else "STRIPE_PRICE_PLATINUM"]
    sub = localstripe("POST", "/v1/subscriptions", {"customer": customer, "items[0][plan]": plan})
    print(json.dumps({"partner": partner, "customer": customer, "subscription": sub.get("id"),
                      "status": sub.get("status")}))


def invoke(port, function, payload):
    """Invokes `function` under `cargo lambda watch` (the first call waits for its build)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(payload, default=str).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=900) as response:
        return response.status, response.read().decode()


def stream_iterators(streams, stream_arn):
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    return {s["ShardId"]: streams.get_shard_iterator(StreamArn=stream_arn, ShardId=s["ShardId"],
                                                     ShardIteratorType="LATEST")["ShardIterator"]
            for s in shards}


def relay_new_outbox_records(port, streams, iterators):
    for shard, iterator in list(iterators.items()):
        out = streams.get_records(ShardIterator=iterator)
        records = [r for r in out.get("Records", [])
                   if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["pk"]["S"].startswith("OUTBOX#")]
        if records:
            status, body = invoke(port, "outbox-relay", {"Records": records})
            print(f"pipeline: {len(records)} outbox event(s) -> outbox-relay: {status} {body}", flush=True)
        # Only past a batch the relay took (like the event source mapping, which retries a failed one).
        iterators[shard] = out.get("NextShardIterator", iterator)


def mail_bus_events(port, sqs, queue_url):
    out = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in out.get("Messages", []):
        event = json.loads(message["Body"])
        status, body = invoke(port, "email-sender", event)
        print(f"pipeline: {event.get('detail-type')} -> email-sender: {status} {body}", flush=True)
        if status == 200:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def run(port):
    table = client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])["Table"]
    streams = client("dynamodbstreams")
    iterators = stream_iterators(streams, table["LatestStreamArn"])
    sqs = client("sqs")
    queue_url = sqs.get_queue_url(QueueName=EMAIL_QUEUE)["QueueUrl"]
    while True:
        try:
            relay_new_outbox_records(port, streams, iterators)
            mail_bus_events(port, sqs, queue_url)
        except Exception as err:  # keep the dev loop alive; the next round retries
            print(f"pipeline: {err}", file=sys.stderr, flush=True)
            time.sleep(2)


if __name__ == "__main__":
    load_dev_environment()
    match sys.argv[1:]:
        case ["setup"]:
            setup()
        case ["sender"]:
            sender()
        case ["sign-in-link", origin, email]:
            print(sign_in_link(origin, email))
        case ["stripe", port]:
            stripe(int(port))
        case ["stripe", port, url, customers_file]:
            stripe(int(port), url, customers_file)
        case ["subscribe", partner, tier, *rest] if tier in ("gold", "platinum"):
            subscribe(partner, tier, "--failing" in rest)
        case ["run", port]:
            try:
                run(int(port))
            except KeyboardInterrupt:
                pass
        case _:
            raise SystemExit(__doc__)
