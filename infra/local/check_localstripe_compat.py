"""Checks localstripe_compat end to end: starts localstripe_loopback.py on a free 127.0.0.1 port, makes
the calls our Stripe client makes (prices, subscriptions create/get/update/delete, idempotency, failing
payments, invoice pay, refunds; test cards, customers' and subscriptions' default payment methods, the
default_incomplete checkout with its confirmation_secret and PaymentIntent confirm, SetupIntents,
billing portal sessions, our Stripe.js and the calls it makes with the publishable key), receives the signed webhooks on a local HTTP server, then stops everything.
Prints one line per check and `N passed, M failed` last; exits 1 on any failure.

Usage: .venv/bin/python infra/local/check_localstripe_compat.py
"""
import hashlib
import hmac
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
API_KEY = "sk_test_compat_check"
WEBHOOK_SECRET = "whsec_compat_check"  # a test value; never printed
DAY = 86400

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    if ok:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        # Client secrets of the local test objects are not printed either.
        print(f"FAIL {name}: {re.sub(r'_secret_[A-Za-z0-9]+', '_secret_<redacted>', str(detail))[:600]}")
    return ok


class Stripe:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, form=(), key=None, query=None):
        """(status, JSON answer, headers)."""
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        body = None if method == "GET" else urllib.parse.urlencode(list(form)).encode()
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", f"Bearer {API_KEY}")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if key:
            request.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return answer.status, json.loads(answer.read() or b"null"), dict(answer.headers)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw), dict(err.headers)
            except ValueError:
                return err.code, raw.decode("utf-8", "replace"), dict(err.headers)

    def ok(self, method, path, form=(), **kwargs):
        status, answer, _ = self.call(method, path, form, **kwargs)
        if status != 200:
            raise AssertionError(f"{method} {path}: {status} {answer}")
        return answer


class Hooks:
    """What localstripe delivered to our webhook receiver: (Stripe-Signature header, raw body)."""

    def __init__(self):
        self.received = []
        self.changed = threading.Condition()

    def add(self, signature, raw):
        with self.changed:
            self.received.append((signature, raw))
            self.changed.notify_all()

    def wait_for(self, predicate, timeout=8.0):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for signature, raw in self.received:
                    event = json.loads(raw)
                    if predicate(event):
                        return event, signature, raw
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None, None
                self.changed.wait(left)


def signature_valid(signature, raw):
    try:
        parts = dict(part.split("=", 1) for part in (signature or "").split(","))
        expected = hmac.new(WEBHOOK_SECRET.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])
    except (KeyError, ValueError):
        return False


def start_webhook_receiver(hooks):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hooks.add(self.headers.get("Stripe-Signature"), raw)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(stripe, proc):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if stripe.call("GET", "/v1/plans")[0] == 200:
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    return False


def sub_of(event, sub_id):
    return event["data"]["object"].get("id") == sub_id


def scenario(s, hooks, hook_url):
    now = int(time.time())
    check("webhook endpoint registered",
          s.call("POST", "/_config/webhooks/compat", [("url", hook_url), ("secret", WEBHOOK_SECRET)])[0] == 200)

    # ---- 1. prices ----
    price_form = [("id", "price_gold"), ("unit_amount", "1000"), ("currency", "usd"),
                  ("recurring[interval]", "month"), ("product_data[name]", "Gold")]
    status, gold, _ = s.call("POST", "/v1/prices", price_form)
    check("POST /v1/prices creates price_gold", status == 200 and gold["id"] == "price_gold"
          and gold["object"] == "price" and gold["unit_amount"] == 1000 and gold["currency"] == "usd"
          and gold["recurring"]["interval"] == "month" and gold["type"] == "recurring" and gold["active"], gold)
    status, again, _ = s.call("POST", "/v1/prices", price_form)
    check("POST /v1/prices of an existing id answers it", status == 200 and again["product"] == gold["product"],
          (status, again))
    s.ok("POST", "/v1/prices", [("id", "price_platinum"), ("unit_amount", "3000"), ("currency", "usd"),
                                ("recurring[interval]", "month"), ("product_data[name]", "Platinum")])
    status, got, _ = s.call("GET", "/v1/prices/price_platinum")
    check("GET /v1/prices/{id}", status == 200 and got["unit_amount"] == 3000, (status, got))
    status, err, _ = s.call("GET", "/v1/prices/price_nope")
    check("GET /v1/prices/{unknown} is 404", status == 404 and err["error"]["code"] == "resource_missing", err)

    def customer(payment_method=None):
        form = [("email", "partner@example.com")]
        if payment_method:
            form.append(("invoice_settings[default_payment_method]", payment_method))
        return s.ok("POST", "/v1/customers", form)["id"]

    def subscribe(cus, price="price_gold", *extra, key=None):
        return s.call("POST", "/v1/subscriptions",
                      [("customer", cus), ("items[0][price]", price), *extra], key=key)

    visa = customer("pm_card_visa")

    # A subscription that Stripe's clock (the compat ticker) cancels at cancel_at, 2 s from now.
    status, soon, _ = subscribe(visa, "price_gold", ("cancel_at", str(now + 2)))
    check("create with cancel_at", status == 200 and soon["cancel_at"] == now + 2, soon)

    # ---- 2. create ----
    form = [("customer", visa), ("items[0][price]", "price_gold"), ("collection_method", "charge_automatically"),
            ("payment_behavior", "allow_incomplete"), ("metadata[partner_id]", "p1"), ("expand[]", "latest_invoice")]
    status, sub, _ = s.call("POST", "/v1/subscriptions", form, key="create-1")
    item = sub["items"]["data"][0] if status == 200 else {}
    invoice = sub.get("latest_invoice") if status == 200 else None
    check("create: active, charge_automatically", status == 200 and sub["status"] == "active"
          and sub["collection_method"] == "charge_automatically" and sub["object"] == "subscription"
          and sub["customer"] == visa, (status, sub))
    check("create: today's fields", all(k in sub for k in (
        "cancel_at", "cancel_at_period_end", "canceled_at", "pause_collection", "current_period_start",
        "current_period_end", "pending_update", "metadata")) and sub["pause_collection"] is None
          and sub["pending_update"] is None and sub["cancel_at"] is None and sub["metadata"] == {"partner_id": "p1"},
          sub)
    price = item.get("price") or {}
    check("create: item has a today-shaped price", item.get("id", "").startswith("si_")
          and item.get("object") == "subscription_item" and item.get("quantity") == 1
          and price.get("id") == "price_gold" and price.get("object") == "price" and price.get("unit_amount") == 1000
          and price.get("recurring", {}).get("interval") == "month"
          and price.get("recurring", {}).get("interval_count") == 1 and price.get("type") == "recurring"
          and price.get("active") is True and price.get("product") == gold["product"], item)
    check("create: item periods", item.get("current_period_start") == sub.get("current_period_start")
          and item.get("current_period_end") == sub.get("current_period_end")
          and item.get("current_period_end", 0) > item.get("current_period_start", 0), item)
    check("create: expand[]=latest_invoice is the paid invoice", isinstance(invoice, dict)
          and invoice["id"].startswith("in_") and invoice["status"] == "paid" and invoice["amount_due"] == 1000
          and invoice["amount_paid"] == 1000 and invoice["due_date"] is None and invoice["hosted_invoice_url"]
          and invoice["hosted_invoice_url"] == f"https://invoice.stripe.com/i/acct_localstripe/{invoice['id']}"
          and invoice["invoice_pdf"] == f"https://pay.stripe.com/invoice/acct_localstripe/{invoice['id']}/pdf",
          invoice)

    status, replay, headers = s.call("POST", "/v1/subscriptions", form, key="create-1")
    check("idempotency: same key, same request -> the first answer", status == 200 and replay == sub
          and headers.get("Idempotent-Replayed") == "true", (status, replay))
    other = [pair if pair[0] != "items[0][price]" else ("items[0][price]", "price_platinum") for pair in form]
    status, err, _ = s.call("POST", "/v1/subscriptions", other, key="create-1")
    check("idempotency: same key, other parameters -> 400 idempotency_error",
          status == 400 and err["error"]["type"] == "idempotency_error", (status, err))
    listed = s.ok("GET", "/v1/subscriptions", query={"customer": visa})["data"]
    check("idempotency: one subscription made", sum(1 for x in listed if x["metadata"].get("partner_id") == "p1") == 1,
          [x["id"] for x in listed])

    racer = customer("pm_card_visa")
    barrier, answers = threading.Barrier(2), []

    def race():
        barrier.wait()
        answers.append(subscribe(racer, "price_gold", ("metadata[race]", "1"), key="create-race"))

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    listed = s.ok("GET", "/v1/subscriptions", query={"customer": racer})["data"]
    check("idempotency: two racing requests with one key create one subscription",
          len(answers) == 2 and all(a[0] == 200 for a in answers) and answers[0][1]["id"] == answers[1][1]["id"]
          and len(listed) == 1, ([a[:2] for a in answers], len(listed)))

    # ---- 3. retrieve ----
    status, got, _ = s.call("GET", f"/v1/subscriptions/{sub['id']}", query=[("expand[0]", "latest_invoice")])
    check("GET /v1/subscriptions/{id} (expand[0]=latest_invoice)", status == 200 and got["id"] == sub["id"]
          and got["items"]["data"][0]["price"]["id"] == "price_gold" and got["latest_invoice"]["id"] == invoice["id"]
          and got["pending_update"] is None, got)
    status, got, _ = s.call("GET", f"/v1/subscriptions/{sub['id']}")
    check("GET without expand: latest_invoice is an id", status == 200 and got["latest_invoice"] == invoice["id"], got)

    # ---- send_invoice ----
    invoiced = customer()
    before = int(time.time())
    status, sent, _ = subscribe(invoiced, "price_gold", ("collection_method", "send_invoice"),
                                ("days_until_due", "30"), ("cancel_at", str(now + 90 * DAY)),
                                ("expand[]", "latest_invoice"), key="create-invoiced")
    after = int(time.time())
    open_invoice = sent.get("latest_invoice") if status == 200 else {}
    check("send_invoice: active, invoice open with due_date", status == 200 and sent["status"] == "active"
          and sent["collection_method"] == "send_invoice" and sent["days_until_due"] == 30
          and sent["cancel_at"] == now + 90 * DAY and open_invoice["status"] == "open"
          and open_invoice["amount_paid"] == 0 and open_invoice["amount_due"] == 1000
          and open_invoice["collection_method"] == "send_invoice"
          and before + 30 * DAY <= open_invoice["due_date"] <= after + 30 * DAY
          and open_invoice["hosted_invoice_url"], sent)
    status, paid, _ = s.call("POST", f"/v1/invoices/{open_invoice.get('id')}/pay", [("paid_out_of_band", "true")])
    check("POST /v1/invoices/{id}/pay paid_out_of_band=true", status == 200 and paid["status"] == "paid"
          and paid["paid_out_of_band"] is True and paid["amount_remaining"] == 0, (status, paid))
    status, err, _ = s.call("POST", f"/v1/invoices/{open_invoice.get('id')}/pay", [("paid_out_of_band", "true")])
    check("paying a paid invoice is 400", status == 400, (status, err))

    status, sent2, _ = subscribe(visa, "price_gold", ("collection_method", "send_invoice"), ("days_until_due", "7"),
                                 ("expand[]", "latest_invoice"))
    status, paid, _ = s.call("POST", f"/v1/invoices/{sent2['latest_invoice']['id']}/pay")
    check("POST /v1/invoices/{id}/pay charges the default payment method",
          status == 200 and paid["status"] == "paid" and paid["amount_paid"] == 1000, (status, paid))
    status, refund, _ = s.call("POST", "/v1/refunds", [("payment_intent", paid.get("payment_intent")), ("amount", "500")])
    check("POST /v1/refunds payment_intent + amount", status == 200 and refund["amount"] == 500
          and refund["status"] == "succeeded", (status, refund))
    charge = paid.get("charge")
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    status, refund, _ = s.call("POST", "/v1/refunds", [("charge", charge_id), ("amount", "100")])
    check("POST /v1/refunds charge + amount", status == 200 and refund["amount"] == 100 and refund["charge"] == charge_id,
          (status, refund))

    # ---- failing payments ----
    failing = customer("pm_card_chargeCustomerFail")
    status, bad, _ = subscribe(failing, "price_gold", ("payment_behavior", "allow_incomplete"),
                               ("expand[]", "latest_invoice"))
    check("failing card + allow_incomplete: incomplete, invoice open", status == 200 and bad["status"] == "incomplete"
          and bad["latest_invoice"]["status"] == "open" and bad["latest_invoice"]["amount_paid"] == 0, (status, bad))
    status, err, _ = subscribe(failing, "price_gold", ("payment_behavior", "error_if_incomplete"))
    listed = s.ok("GET", "/v1/subscriptions", query={"customer": failing})["data"]
    check("failing card + error_if_incomplete: 402, nothing kept", status == 402
          and err["error"]["type"] == "card_error" and len(listed) == 1, (status, err, len(listed)))
    status, err, _ = s.call("POST", f"/v1/invoices/{bad['latest_invoice']['id']}/pay")
    check("pay with a failing card is 402 card_declined", status == 402 and err["error"].get("code") == "card_declined",
          (status, err))

    status, waiting, _ = subscribe(visa, "price_gold", ("payment_behavior", "default_incomplete"),
                                   ("expand[]", "latest_invoice"))
    check("default_incomplete: incomplete, invoice open with a payment intent", status == 200
          and waiting["status"] == "incomplete" and waiting["latest_invoice"]["status"] == "open"
          and waiting["latest_invoice"]["payment_intent"], (status, waiting))
    s.ok("POST", f"/v1/invoices/{waiting['latest_invoice']['id']}/pay")
    check("default_incomplete: active once its invoice is paid",
          s.ok("GET", f"/v1/subscriptions/{waiting['id']}")["status"] == "active")

    no_card = customer()
    status, bare, _ = subscribe(no_card, "price_gold", ("payment_behavior", "allow_incomplete"),
                                ("expand[]", "latest_invoice"))
    check("allow_incomplete without a payment method: incomplete, invoice open (as Stripe)", status == 200
          and bare["status"] == "incomplete" and bare["latest_invoice"]["status"] == "open", (status, bare))
    status, err, _ = subscribe(customer(), "price_gold", ("payment_behavior", "error_if_incomplete"))
    check("error_if_incomplete without a payment method: 402 card_error", status == 402
          and err["error"]["type"] == "card_error", (status, err))

    sepa_customer = customer()
    pm = s.ok("POST", "/v1/payment_methods", [("type", "sepa_debit"), ("sepa_debit[iban]", "DE62370400440532013001")])
    s.ok("POST", f"/v1/payment_methods/{pm['id']}/attach", [("customer", sepa_customer)])
    s.ok("POST", f"/v1/customers/{sepa_customer}", [("invoice_settings[default_payment_method]", pm["id"])])
    status, sepa, _ = subscribe(sepa_customer, "price_gold")
    check("failing SEPA: created (localstripe cancels it when the debit fails)", status == 200, (status, sepa))

    # ---- 4. updates ----
    sid, si = sub["id"], item["id"]
    cancel_at = now + 30 * DAY
    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sid}", [("cancel_at", str(cancel_at))], key="upd-cancel")
    check("update cancel_at", status == 200 and updated["cancel_at"] == cancel_at and updated["status"] == "active",
          (status, updated))
    status, replay, headers = s.call("POST", f"/v1/subscriptions/{sid}", [("cancel_at", str(cancel_at))],
                                     key="upd-cancel")
    check("update replayed by its key", status == 200 and replay == updated
          and headers.get("Idempotent-Replayed") == "true", (status, replay))
    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sid}", [("cancel_at", "")])
    check("update cancel_at= clears it", status == 200 and updated["cancel_at"] is None, (status, updated))
    resumes = now + 10 * DAY
    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sid}", [
        ("pause_collection[behavior]", "void"), ("pause_collection[resumes_at]", str(resumes))])
    check("update pause_collection", status == 200
          and updated["pause_collection"] == {"behavior": "void", "resumes_at": resumes}, (status, updated))
    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sid}", [("pause_collection", "")])
    check("update pause_collection= clears it", status == 200 and updated["pause_collection"] is None, (status, updated))
    status, err, _ = s.call("POST", f"/v1/subscriptions/{sid}", [
        ("pause_collection[behavior]", "sleep")])
    check("update pause_collection with a bad behavior is 400", status == 400, (status, err))

    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sid}", [
        ("items[0][id]", si), ("items[0][price]", "price_platinum"), ("proration_behavior", "none")])
    check("update price, proration none: same item, new price, no invoice", status == 200
          and updated["items"]["data"][0]["id"] == si and updated["items"]["data"][0]["price"]["id"] == "price_platinum"
          and updated["latest_invoice"] == invoice["id"], (status, updated))
    status, err, _ = s.call("POST", f"/v1/subscriptions/{sid}", [
        ("items[0][id]", "si_nope"), ("items[0][price]", "price_gold")])
    check("update with another item id is 400", status == 400, (status, err))

    backdated = s.ok("POST", "/v1/subscriptions", [("customer", visa), ("items[0][price]", "price_gold"),
                                                   ("backdate_start_date", str(now - 10 * DAY))])
    bitem = backdated["items"]["data"][0]
    start, end = bitem["current_period_start"], bitem["current_period_end"]
    t0 = time.time()
    status, upgraded, _ = s.call("POST", f"/v1/subscriptions/{backdated['id']}", [
        ("items[0][id]", bitem["id"]), ("items[0][price]", "price_platinum"),
        ("proration_behavior", "always_invoice"), ("payment_behavior", "pending_if_incomplete"),
        ("expand[]", "latest_invoice")], key="upgrade-1")
    t1 = time.time()
    prorated = upgraded.get("latest_invoice") if status == 200 else {}
    low, high = 2000 * (end - t1) / (end - start) - 1, 2000 * (end - t0) / (end - start) + 1
    check("always_invoice: prorated difference invoiced and paid", status == 200
          and upgraded["items"]["data"][0]["price"]["id"] == "price_platinum"
          and upgraded["items"]["data"][0]["id"] == bitem["id"] and upgraded["pending_update"] is None
          and prorated["id"] != backdated["latest_invoice"] and prorated["status"] == "paid"
          and low <= prorated["amount_due"] <= high and prorated["amount_paid"] == prorated["amount_due"]
          and 1000 < prorated["amount_due"] < 2000, (status, prorated.get("amount_due"), low, high))
    status, downgraded, _ = s.call("POST", f"/v1/subscriptions/{backdated['id']}", [
        ("items[0][id]", bitem["id"]), ("items[0][price]", "price_gold"),
        ("proration_behavior", "always_invoice"), ("expand[]", "latest_invoice")])
    check("always_invoice downgrade: never a negative invoice", status == 200
          and downgraded["items"]["data"][0]["price"]["id"] == "price_gold"
          and downgraded["latest_invoice"]["amount_due"] == 0 and downgraded["latest_invoice"]["status"] == "paid",
          (status, downgraded))

    owner = customer("pm_card_visa")
    pending_sub = s.ok("POST", "/v1/subscriptions", [("customer", owner), ("items[0][price]", "price_gold")])
    pitem = pending_sub["items"]["data"][0]["id"]
    s.ok("POST", f"/v1/customers/{owner}", [("invoice_settings[default_payment_method]", "pm_card_chargeCustomerFail")])
    status, held, _ = s.call("POST", f"/v1/subscriptions/{pending_sub['id']}", [
        ("items[0][id]", pitem), ("items[0][price]", "price_platinum"),
        ("proration_behavior", "always_invoice"), ("payment_behavior", "pending_if_incomplete")])
    pending = held.get("pending_update") if status == 200 else None
    check("pending_if_incomplete + failed payment: item unchanged, pending_update set", status == 200
          and held["items"]["data"][0]["price"]["id"] == "price_gold" and isinstance(pending, dict)
          and pending["subscription_items"][0]["price"]["id"] == "price_platinum" and pending["expires_at"] > now,
          (status, held))
    held_invoice = s.ok("GET", f"/v1/invoices/{held.get('latest_invoice')}")
    check("pending_if_incomplete: its invoice is open", held_invoice["status"] == "open"
          and held_invoice["amount_due"] > 0, held_invoice)
    status, err, _ = s.call("POST", f"/v1/subscriptions/{pending_sub['id']}", [
        ("items[0][id]", pitem), ("items[0][price]", "price_platinum"), ("cancel_at", str(cancel_at)),
        ("proration_behavior", "always_invoice"), ("payment_behavior", "pending_if_incomplete")])
    check("pending_if_incomplete with cancel_at is 400", status == 400, (status, err))
    s.ok("POST", f"/v1/customers/{owner}", [("invoice_settings[default_payment_method]", "pm_card_visa")])
    status, paid, _ = s.call("POST", f"/v1/invoices/{held_invoice['id']}/pay")
    applied = s.ok("GET", f"/v1/subscriptions/{pending_sub['id']}")
    check("paying the held invoice applies the pending update", status == 200 and paid["status"] == "paid"
          and applied["items"]["data"][0]["price"]["id"] == "price_platinum" and applied["pending_update"] is None,
          (status, applied))

    # ---- 5. delete ----
    delete_form = [("prorate", "true"), ("invoice_now", "true")]
    status, deleted, _ = s.call("DELETE", f"/v1/subscriptions/{sid}", delete_form, key="delete-1")
    check("DELETE cancels", status == 200 and deleted["status"] == "canceled" and deleted["canceled_at"]
          and deleted["ended_at"] and deleted["items"]["data"][0]["price"]["id"] == "price_platinum", (status, deleted))
    status, replay, _ = s.call("DELETE", f"/v1/subscriptions/{sid}", delete_form, key="delete-1")
    check("DELETE replayed by its key", status == 200 and replay == deleted, (status, replay))
    status, err, _ = s.call("DELETE", f"/v1/subscriptions/{sid}", delete_form, key="delete-2")
    check("DELETE of a canceled subscription is 400", status == 400
          and err["error"]["type"] == "invalid_request_error" and err["error"]["message"], (status, err))

    # ---- webhooks and events ----
    event, signature, raw = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated" and sub_of(e, sid)
                                           and e["data"]["object"]["items"]["data"][0]["price"]["id"] == "price_platinum")
    check("webhook customer.subscription.updated with the new price", event is not None
          and "items" in event["data"]["previous_attributes"]
          and event["data"]["previous_attributes"]["items"]["data"][0]["price"]["id"] == "price_gold", event)
    check("webhook Stripe-Signature t=...,v1=HMAC-SHA256(secret, t.body)", event is not None
          and signature_valid(signature, raw))
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated" and sub_of(e, sid)
                                 and e["data"]["object"]["cancel_at"] == cancel_at)
    check("webhook updated for cancel_at, previous_attributes.cancel_at null", event is not None
          and event["data"]["previous_attributes"] == {"cancel_at": None} and event["pending_webhooks"] == 1, event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated"
                                 and sub_of(e, pending_sub["id"]) and e["data"]["previous_attributes"].get("pending_update"))
    check("webhook updated when the pending update is applied", event is not None
          and event["data"]["object"]["items"]["data"][0]["price"]["id"] == "price_platinum", event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated" and sub_of(e, waiting["id"]))
    check("webhook updated when an incomplete subscription becomes active", event is not None
          and event["data"]["previous_attributes"].get("status") == "incomplete", event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.deleted" and sub_of(e, sid))
    check("webhook customer.subscription.deleted", event is not None
          and event["data"]["object"]["status"] == "canceled", event)
    listed = s.ok("GET", "/v1/events", query={"type": "customer.subscription.updated", "limit": "100"})["data"]
    mine = [e for e in listed if sub_of(e, sid)]
    check("GET /v1/events lists the updated events", len(mine) >= 5, len(mine))
    check("one event for the replayed cancel_at update",
          sum(1 for e in mine if e["data"]["object"]["cancel_at"] == cancel_at) == 1, len(mine))

    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.deleted" and sub_of(e, soon["id"]))
    ended = s.ok("GET", f"/v1/subscriptions/{soon['id']}")
    check("cancel_at reached: canceled, ended_at = cancel_at, deleted event", event is not None
          and ended["status"] == "canceled" and ended["ended_at"] == now + 2, ended)
    deadline = time.monotonic() + 5
    while s.ok("GET", f"/v1/subscriptions/{sepa['id']}")["status"] != "canceled" and time.monotonic() < deadline:
        time.sleep(0.2)
    check("failing SEPA: canceled after the debit fails",
          s.ok("GET", f"/v1/subscriptions/{sepa['id']}")["status"] == "canceled")
    with hooks.changed:
        received = list(hooks.received)
    check("every delivery is signed", received and all(signature_valid(sig, raw) for sig, raw in received),
          len(received))


CARD = [("type", "card"), ("card[number]", "4242424242424242"), ("card[exp_month]", "12"),
        ("card[exp_year]", "2030"), ("card[cvc]", "123")]


def leaks_card(obj):
    """True if `obj` (an answer or event) shows a full card number or a cvc."""
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return any(number in text for number in ("4242424242424242", "4000000000000002", "5555555555554444",
                                             "4000000000000341")) or '"cvc"' in text or '"number"' in text


def scenario_payments(s, hooks, base):
    """Test cards, default payment methods, the default_incomplete checkout, SetupIntents, billing portal."""
    def customer(*form):
        return s.ok("POST", "/v1/customers", [("email", "partner@example.com"), *form])["id"]

    def card(*form):
        return s.ok("POST", "/v1/payment_methods", CARD + list(form))

    # ---- test cards ----
    status, pm, _ = s.call("POST", "/v1/payment_methods", CARD, key="pm-create-1")
    got = s.ok("GET", f"/v1/payment_methods/{pm.get('id')}") if status == 200 else {}
    check("POST /v1/payment_methods type=card card[number]=4242...: card without number or cvc",
          status == 200 and pm["id"].startswith("pm_") and pm["object"] == "payment_method" and pm["type"] == "card"
          and pm["customer"] is None and pm["card"]["brand"] == "visa" and pm["card"]["last4"] == "4242"
          and pm["card"]["exp_month"] == 12 and pm["card"]["exp_year"] == 2030 and pm["card"]["fingerprint"]
          and pm["card"]["checks"]["cvc_check"] == "pass" and not leaks_card(pm) and got == pm, (status, pm))
    first, second = (s.ok("GET", "/v1/payment_methods/pm_card_visa") for _ in range(2))
    check("pm_card_visa makes a fresh visa 4242 each time", first["id"] != second["id"]
          and first["id"].startswith("pm_") and first["id"] != "pm_card_visa" and first["card"]["last4"] == "4242"
          and first["card"]["brand"] == "visa" and not leaks_card(first), (first, second))
    declined = s.ok("GET", "/v1/payment_methods/pm_card_chargeDeclined")
    master = s.ok("GET", "/v1/payment_methods/pm_card_mastercard")
    check("pm_card_chargeDeclined (0002) and pm_card_mastercard (4444) exist",
          declined["card"]["last4"] == "0002" and master["card"]["brand"] == "mastercard"
          and master["card"]["last4"] == "4444", (declined, master))

    # ---- customers' default payment method ----
    cus = customer()
    s.ok("POST", f"/v1/payment_methods/{pm['id']}/attach", [("customer", cus)])
    status, updated, _ = s.call("POST", f"/v1/customers/{cus}",
                                [("invoice_settings[default_payment_method]", pm["id"])], key="cus-default-1")
    check("POST /v1/customers/{id} invoice_settings[default_payment_method]=pm_...",
          status == 200 and updated["invoice_settings"]["default_payment_method"] == pm["id"], (status, updated))
    status, got, _ = s.call("GET", f"/v1/customers/{cus}",
                            query=[("expand[]", "invoice_settings.default_payment_method")])
    expanded = got["invoice_settings"]["default_payment_method"] if status == 200 else None
    check("GET /v1/customers/{id}?expand[]=invoice_settings.default_payment_method is the PaymentMethod",
          isinstance(expanded, dict) and expanded["id"] == pm["id"] and expanded["object"] == "payment_method"
          and expanded["customer"] == cus and expanded["card"]["last4"] == "4242" and not leaks_card(got), got)
    loose = card()
    status, err, _ = s.call("POST", f"/v1/customers/{cus}", [("invoice_settings[default_payment_method]", loose["id"])])
    check("a customer's default payment method must be attached to it (400)", status == 400
          and err["error"].get("param") == "invoice_settings[default_payment_method]"
          and s.ok("GET", f"/v1/customers/{cus}")["invoice_settings"]["default_payment_method"] == pm["id"],
          (status, err))
    aliased = customer(("invoice_settings[default_payment_method]", "pm_card_visa"))
    one, two = (s.ok("GET", f"/v1/customers/{aliased}")["invoice_settings"]["default_payment_method"] for _ in range(2))
    check("invoice_settings[default_payment_method]=pm_card_visa stores a real, attached id", one == two
          and one.startswith("pm_") and one != "pm_card_visa"
          and s.ok("GET", f"/v1/payment_methods/{one}")["customer"] == aliased, (one, two))
    status, cleared, _ = s.call("POST", f"/v1/customers/{aliased}", [("invoice_settings[default_payment_method]", "")])
    check("invoice_settings[default_payment_method]= clears it",
          status == 200 and cleared["invoice_settings"]["default_payment_method"] is None, (status, cleared))

    # ---- the default_incomplete checkout ----
    buyer = customer()
    now = int(time.time())
    checkout = [("customer", buyer), ("items[0][price]", "price_gold"), ("collection_method", "charge_automatically"),
                ("payment_behavior", "default_incomplete"),
                ("payment_settings[save_default_payment_method]", "on_subscription"),
                ("expand[0]", "latest_invoice.confirmation_secret"), ("metadata[partner_id]", "p-checkout"),
                ("cancel_at", str(now + 365 * DAY))]
    status, sub, _ = s.call("POST", "/v1/subscriptions", checkout, key="checkout-1")
    invoice = sub.get("latest_invoice") if status == 200 else {}
    secret = (invoice or {}).get("confirmation_secret") or {}
    intent_id = invoice.get("payment_intent") if isinstance(invoice, dict) else None
    intent = s.ok("GET", f"/v1/payment_intents/{intent_id}") if intent_id else {}
    check("checkout: incomplete, open invoice with confirmation_secret of its PaymentIntent", status == 200
          and sub["status"] == "incomplete" and sub["default_payment_method"] is None
          and sub["payment_settings"]["save_default_payment_method"] == "on_subscription"
          and sub["metadata"] == {"partner_id": "p-checkout"} and sub["cancel_at"] == now + 365 * DAY
          and isinstance(invoice, dict) and invoice["status"] == "open" and invoice["amount_due"] == 1000
          and secret.get("type") == "payment_intent" and secret.get("client_secret") == intent.get("client_secret")
          and secret["client_secret"].startswith(intent_id + "_secret_")
          and intent.get("status") == "requires_payment_method" and intent.get("invoice") == invoice["id"],
          (status, sub, intent))
    status, replay, headers = s.call("POST", "/v1/subscriptions", checkout, key="checkout-1")
    check("checkout replayed by its Idempotency-Key", status == 200 and replay == sub
          and headers.get("Idempotent-Replayed") == "true", (status, replay))
    status, got, _ = s.call("GET", f"/v1/subscriptions/{sub['id']}",
                            query=[("expand[]", "latest_invoice.confirmation_secret")])
    check("GET /v1/subscriptions/{id}?expand[]=latest_invoice.confirmation_secret", status == 200
          and got["latest_invoice"]["confirmation_secret"] == secret, (status, got))
    status, got, _ = s.call("GET", f"/v1/invoices/{invoice['id']}", query=[("expand[]", "confirmation_secret")])
    check("GET /v1/invoices/{id}?expand[]=confirmation_secret", status == 200
          and got["confirmation_secret"] == secret, (status, got))

    status, err, _ = s.call("POST", f"/v1/payment_intents/{intent_id}/confirm",
                            [("payment_method", "pm_card_chargeDeclined")], key="confirm-declined")
    still = s.ok("GET", f"/v1/subscriptions/{sub['id']}", query=[("expand[]", "latest_invoice")])
    check("confirm with a declined card: 402 card_declined, still incomplete, same secret", status == 402
          and err["error"]["type"] == "card_error" and err["error"].get("code") == "card_declined"
          and err["error"].get("payment_intent", {}).get("id") == intent_id and still["status"] == "incomplete"
          and still["latest_invoice"]["status"] == "open" and still["latest_invoice"]["confirmation_secret"] == secret,
          (status, err, still))
    paying = card()
    status, confirmed, _ = s.call("POST", f"/v1/payment_intents/{intent_id}/confirm",
                                  [("payment_method", paying["id"])], key="confirm-1")
    active = s.ok("GET", f"/v1/subscriptions/{sub['id']}", query=[("expand[]", "latest_invoice")])
    check("confirm with a card: succeeded, invoice paid, subscription active", status == 200
          and confirmed["status"] == "succeeded" and confirmed["payment_method"] == paying["id"]
          and active["status"] == "active" and active["latest_invoice"]["status"] == "paid"
          and active["latest_invoice"]["amount_paid"] == 1000
          and active["latest_invoice"]["confirmation_secret"] is None, (status, confirmed, active))
    check("save_default_payment_method=on_subscription: default_payment_method set, method attached",
          active["default_payment_method"] == paying["id"]
          and s.ok("GET", f"/v1/payment_methods/{paying['id']}")["customer"] == buyer, active)
    status, got, _ = s.call("GET", f"/v1/subscriptions/{sub['id']}", query=[("expand[]", "default_payment_method")])
    expanded = (got.get("default_payment_method") if status == 200 else None) or {}
    check("GET /v1/subscriptions/{id}?expand[]=default_payment_method", expanded.get("id") == paying["id"]
          and expanded.get("card", {}).get("last4") == "4242" and not leaks_card(got), (status, got))
    status, err, _ = s.call("POST", f"/v1/payment_intents/{intent_id}/confirm", [("payment_method", paying["id"])])
    check("confirming a succeeded PaymentIntent is 400", status == 400
          and err["error"].get("code") == "payment_intent_unexpected_state", (status, err))

    # ---- a subscription's default payment method ----
    other = card()
    status, err, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [("default_payment_method", other["id"])])
    check("update default_payment_method not attached to the customer is 400", status == 400
          and err["error"].get("param") == "default_payment_method"
          and s.ok("GET", f"/v1/subscriptions/{sub['id']}")["default_payment_method"] == paying["id"], (status, err))
    s.ok("POST", f"/v1/payment_methods/{other['id']}/attach", [("customer", buyer)])
    status, updated, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [("default_payment_method", other["id"])],
                                key="sub-default-1")
    check("update default_payment_method=pm_...", status == 200 and updated["default_payment_method"] == other["id"],
          (status, updated))
    s.ok("POST", f"/v1/customers/{buyer}", [("invoice_settings[default_payment_method]", "pm_card_chargeCustomerFail")])
    item = updated["items"]["data"][0]["id"]
    status, upgraded, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [
        ("items[0][id]", item), ("items[0][price]", "price_platinum"), ("proration_behavior", "always_invoice"),
        ("payment_behavior", "error_if_incomplete"), ("expand[]", "latest_invoice.payment_intent")])
    paid_with = ((upgraded.get("latest_invoice") or {}).get("payment_intent") if status == 200 else None) or {}
    check("a proration is charged to the subscription's default, not the customer's failing card",
          status == 200 and upgraded["latest_invoice"]["status"] == "paid"
          and paid_with.get("payment_method") == other["id"], (status, upgraded))
    status, cleared, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [("default_payment_method", "")])
    check("update default_payment_method= clears it", status == 200 and cleared["default_payment_method"] is None,
          (status, cleared))
    status, downgraded, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [
        ("items[0][id]", item), ("items[0][price]", "price_gold"), ("proration_behavior", "always_invoice")])
    status, back_up, _ = s.call("POST", f"/v1/subscriptions/{sub['id']}", [
        ("items[0][id]", item), ("items[0][price]", "price_platinum"), ("proration_behavior", "always_invoice"),
        ("payment_behavior", "allow_incomplete")])
    check("without it the customer's (failing) default is charged: past_due", status == 200
          and back_up["status"] == "past_due", (status, back_up))

    fails = customer(("invoice_settings[default_payment_method]", "pm_card_chargeCustomerFail"))
    good = card()
    s.ok("POST", f"/v1/payment_methods/{good['id']}/attach", [("customer", fails)])
    status, created, _ = s.call("POST", "/v1/subscriptions", [
        ("customer", fails), ("items[0][price]", "price_gold"), ("default_payment_method", good["id"]),
        ("payment_behavior", "error_if_incomplete"), ("expand[]", "latest_invoice.payment_intent")])
    check("create with default_payment_method charges it", status == 200 and created["status"] == "active"
          and created["default_payment_method"] == good["id"]
          and created["latest_invoice"]["payment_intent"]["payment_method"] == good["id"], (status, created))
    status, sent, _ = s.call("POST", "/v1/subscriptions", [
        ("customer", fails), ("items[0][price]", "price_gold"), ("default_payment_method", good["id"]),
        ("collection_method", "send_invoice"), ("days_until_due", "7")])
    status, paid, _ = s.call("POST", f"/v1/invoices/{sent.get('latest_invoice')}/pay")
    check("POST /v1/invoices/{id}/pay charges the subscription's default", status == 200 and paid["status"] == "paid",
          (status, paid))
    status, err, _ = s.call("POST", "/v1/subscriptions", [
        ("customer", fails), ("items[0][price]", "price_gold"), ("default_payment_method", other["id"])])
    check("create with another customer's payment method is 400", status == 400
          and err["error"].get("param") == "default_payment_method", (status, err))

    # ---- SetupIntents ----
    saver = customer()
    setup_form = [("customer", saver), ("usage", "off_session"), ("metadata[partner_id]", "p-setup"),
                  ("payment_method_types[0]", "card")]
    status, seti, _ = s.call("POST", "/v1/setup_intents", setup_form, key="seti-1")
    check("POST /v1/setup_intents: client_secret, metadata round-trips", status == 200
          and seti["id"].startswith("seti_") and seti["object"] == "setup_intent"
          and seti["client_secret"].startswith(seti["id"] + "_secret_") and seti["customer"] == saver
          and seti["usage"] == "off_session" and seti["metadata"] == {"partner_id": "p-setup"}
          and seti["status"] == "requires_payment_method" and seti["payment_method_types"] == ["card"]
          and seti["last_setup_error"] is None, (status, seti))
    status, replay, headers = s.call("POST", "/v1/setup_intents", setup_form, key="seti-1")
    check("POST /v1/setup_intents replayed by its key", status == 200 and replay == seti
          and headers.get("Idempotent-Replayed") == "true", (status, replay))
    status, err, _ = s.call("POST", "/v1/setup_intents", [("customer", "cus_nope"), ("usage", "off_session")])
    check("POST /v1/setup_intents for an unknown customer is 400", status == 400
          and err["error"].get("code") == "resource_missing", (status, err))
    saved = card()
    status, done, _ = s.call("POST", f"/v1/setup_intents/{seti['id']}/confirm", [("payment_method", saved["id"])],
                             key="seti-confirm-1")
    check("confirm SetupIntent: succeeded, method attached to its customer", status == 200
          and done["status"] == "succeeded" and done["payment_method"] == saved["id"]
          and s.ok("GET", f"/v1/payment_methods/{saved['id']}")["customer"] == saver, (status, done))
    status, err, _ = s.call("POST", f"/v1/setup_intents/{seti['id']}/confirm", [("payment_method", saved["id"])])
    check("confirming a succeeded SetupIntent is 400", status == 400
          and err["error"].get("code") == "setup_intent_unexpected_state", (status, err))
    failing = s.ok("POST", "/v1/setup_intents", [("customer", saver), ("metadata[partner_id]", "p-setup-2")])
    status, err, _ = s.call("POST", f"/v1/setup_intents/{failing['id']}/confirm",
                            [("payment_method", "pm_card_chargeDeclined")])
    after = s.ok("GET", f"/v1/setup_intents/{failing['id']}")
    check("confirm SetupIntent with a declined card: 402, requires_payment_method, last_setup_error",
          status == 402 and err["error"]["type"] == "card_error" and err["error"].get("code") == "card_declined"
          and after["status"] == "requires_payment_method" and after["payment_method"] is None
          and after["last_setup_error"]["code"] == "card_declined" and after["last_setup_error"]["message"],
          (status, err, after))
    status, retried, _ = s.call("POST", f"/v1/setup_intents/{failing['id']}/confirm",
                                [("payment_method", card()["id"])])
    check("a declined SetupIntent can be confirmed again", status == 200 and retried["status"] == "succeeded"
          and retried["last_setup_error"] is None, (status, retried))

    secure = s.ok("POST", "/v1/setup_intents", [("customer", saver)])
    status, pending, _ = s.call("POST", "/v1/payment_methods", [
        ("type", "card"), ("card[number]", "4000002500003155"), ("card[exp_month]", "12"),
        ("card[exp_year]", "2030"), ("card[cvc]", "123")])
    status, pending, _ = s.call("POST", f"/v1/setup_intents/{secure['id']}/confirm",
                                [("payment_method", pending["id"])])
    status2, completed, _ = s.call("POST", f"/v1/setup_intents/{secure['id']}/confirm",
                                   [("client_secret", secure["client_secret"])])
    check("3-D Secure SetupIntent: requires_action, then completed by confirming again", status == 200
          and pending["status"] == "requires_action" and status2 == 200 and completed["status"] == "succeeded",
          (status, pending.get("status"), status2, completed))

    # ---- billing portal ----
    portal_form = [("customer", saver), ("return_url", "http://localhost:3000/billing?done=1&x=<y>")]
    status, session, _ = s.call("POST", "/v1/billing_portal/sessions", portal_form, key="portal-1")
    check("POST /v1/billing_portal/sessions", status == 200 and session["id"].startswith("bps_")
          and session["object"] == "billing_portal.session" and session["customer"] == saver
          and session["return_url"] == portal_form[1][1] and session["url"].startswith(base + "/"), (status, session))
    status, replay, headers = s.call("POST", "/v1/billing_portal/sessions", portal_form, key="portal-1")
    check("billing portal session replayed by its key", status == 200 and replay == session
          and headers.get("Idempotent-Replayed") == "true", (status, replay))
    try:
        with urllib.request.urlopen(session["url"], timeout=5) as answer:  # no API key, as a browser
            page = answer.status, answer.read().decode()
    except (urllib.error.URLError, KeyError) as err:
        page = (None, repr(err))
    check("the session's url answers a page linking back to return_url", page[0] == 200
          and 'href="http://localhost:3000/billing?done=1&amp;x=&lt;y&gt;"' in page[1], page)
    status, err, _ = s.call("POST", "/v1/billing_portal/sessions", [("customer", "cus_nope"),
                                                                     ("return_url", "http://localhost:3000/")])
    check("billing portal session for an unknown customer is 400", status == 400
          and err["error"].get("code") == "resource_missing", (status, err))
    status, err, _ = s.call("POST", "/v1/billing_portal/sessions", [("return_url", "http://localhost:3000/")])
    check("billing portal session without customer is 400", status == 400, (status, err))

    # ---- events ----
    event, signature, raw = hooks.wait_for(lambda e: e["type"] == "setup_intent.succeeded"
                                           and e["data"]["object"]["id"] == seti["id"])
    obj = event["data"]["object"] if event else {}
    check("webhook setup_intent.succeeded, signed", event is not None and signature_valid(signature, raw)
          and obj["object"] == "setup_intent" and obj["customer"] == saver and obj["payment_method"] == saved["id"]
          and obj["status"] == "succeeded" and obj["metadata"] == {"partner_id": "p-setup"}
          and obj["usage"] == "off_session", event)
    listed = s.ok("GET", "/v1/events", query={"type": "setup_intent.succeeded", "limit": "100"})["data"]
    check("GET /v1/events lists setup_intent.succeeded",
          [e["data"]["object"]["id"] for e in listed].count(seti["id"]) == 1, len(listed))
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "setup_intent.setup_failed"
                                 and e["data"]["object"]["id"] == failing["id"])
    check("webhook setup_intent.setup_failed with last_setup_error", event is not None
          and event["data"]["object"]["last_setup_error"]["code"] == "card_declined"
          and event["data"]["object"]["last_setup_error"]["message"], event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "invoice.payment_succeeded"
                                 and e["data"]["object"]["id"] == invoice["id"])
    check("webhook invoice.payment_succeeded for the confirmed checkout", event is not None
          and event["data"]["object"]["status"] == "paid", event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated" and sub_of(e, sub["id"])
                                 and e["data"]["previous_attributes"].get("status") == "incomplete")
    check("webhook updated on activation: previous status incomplete, default_payment_method null", event is not None
          and "default_payment_method" in event["data"]["previous_attributes"]
          and event["data"]["previous_attributes"]["default_payment_method"] is None
          and event["data"]["object"]["default_payment_method"] == paying["id"]
          and event["data"]["object"]["status"] == "active", event)
    event, _, _ = hooks.wait_for(lambda e: e["type"] == "customer.subscription.updated" and sub_of(e, sub["id"])
                                 and e["data"]["object"]["default_payment_method"] == other["id"]
                                 and "items" not in e["data"]["previous_attributes"])
    check("webhook updated for default_payment_method", event is not None
          and event["data"]["previous_attributes"] == {"default_payment_method": paying["id"]}, event)
    everything = s.ok("GET", "/v1/events", query={"limit": "100"})
    with hooks.changed:
        received = list(hooks.received)
    check("no card number or cvc in any event or delivery", not leaks_card(everything)
          and not any(leaks_card(raw.decode()) for _, raw in received), len(received))


def browser_call(base, method, path, form=(), query=None):
    """A request as Stripe.js in a page makes it: no Authorization, the publishable key in the form or
    query, an Origin (status, JSON or text answer, headers)."""
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    body = None if method == "GET" else urllib.parse.urlencode(list(form)).encode()
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Origin", "http://127.0.0.1:9")
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            raw, status, headers = answer.read(), answer.status, dict(answer.headers)
    except urllib.error.HTTPError as err:
        raw, status, headers = err.read(), err.code, dict(err.headers)
    try:
        return status, json.loads(raw), headers
    except ValueError:
        return status, raw.decode("utf-8", "replace"), headers


def scenario_stripe_js(s):
    """Our Stripe.js (stripe_js_v3.js) served in place of localstripe's, and the calls it makes with the
    publishable key: a card payment method from typed numbers, PaymentIntent and SetupIntent confirms
    with the client_secret, a declined card (0002) then a good one."""
    pk = "pk_test_compat_check"
    status, text, headers = browser_call(s.base, "GET", "/js.stripe.com/v3/")
    check("GET /js.stripe.com/v3/ is our Stripe.js", status == 200 and isinstance(text, str)
          and "window.Stripe = Stripe" in text and "confirmCardPayment" in text and "confirmCardSetup" in text
          and headers.get("Content-Type", "").startswith("text/javascript"), (status, headers))

    def card(number):
        return [("type", "card"), ("card[number]", number), ("card[exp_month]", "12"), ("card[exp_year]", "2034"),
                ("card[cvc]", "123"), ("billing_details[name]", "Kim Keystone"),
                ("billing_details[address][line1]", "1 Main St"), ("billing_details[address][postal_code]", "10001"),
                ("billing_details[address][country]", "US"), ("key", pk)]

    status, declining, headers = browser_call(s.base, "POST", "/v1/payment_methods", card("4000000000000002"))
    check("POST /v1/payment_methods with the publishable key makes a card (CORS for the page's origin)",
          status == 200 and declining["id"].startswith("pm_") and declining["card"]["last4"] == "0002"
          and declining["billing_details"]["name"] == "Kim Keystone"
          and headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:9", (status, declining, headers))
    status, err, _ = browser_call(s.base, "POST", "/v1/payment_methods", card("4242424242424242")[:-1])
    check("POST /v1/payment_methods without any key: 401", status == 401, (status, err))

    s.ok("POST", "/v1/prices", [("id", "price_js_check"), ("unit_amount", "1000"), ("currency", "usd"),
                                 ("recurring[interval]", "month"), ("product_data[name]", "JS check")])
    buyer = s.ok("POST", "/v1/customers", [("email", "js-check@example.com")])["id"]
    sub = s.ok("POST", "/v1/subscriptions", [
        ("customer", buyer), ("items[0][price]", "price_js_check"), ("payment_behavior", "default_incomplete"),
        ("payment_settings[save_default_payment_method]", "on_subscription"),
        ("expand[0]", "latest_invoice.confirmation_secret")])
    secret = sub["latest_invoice"]["confirmation_secret"]["client_secret"]
    intent_id = secret.split("_secret_")[0]
    confirm = f"/v1/payment_intents/{intent_id}/confirm"
    status, err, _ = browser_call(s.base, "POST", confirm, [("payment_method", declining["id"]), ("key", pk)])
    check("a publishable key confirms only with the client_secret: 400", status == 400
          and err["error"]["param"] == "client_secret", (status, err))
    status, err, _ = browser_call(s.base, "POST", confirm, [("payment_method", declining["id"]),
                                                           ("client_secret", secret), ("key", pk)])
    check("confirming with 4000 0000 0000 0002: 402 card_declined, the invoice still open", status == 402
          and err["error"]["code"] == "card_declined"
          and s.ok("GET", f"/v1/invoices/{sub['latest_invoice']['id']}")["status"] == "open", (status, err))
    status, good, _ = browser_call(s.base, "POST", "/v1/payment_methods", card("4242424242424242"))
    status, paid, _ = browser_call(s.base, "POST", confirm, [("payment_method", good["id"]),
                                                            ("client_secret", secret), ("key", pk)])
    check("then 4242 4242 4242 4242 pays it: succeeded, the subscription active", status == 200
          and paid["status"] == "succeeded"
          and s.ok("GET", f"/v1/subscriptions/{sub['id']}")["status"] == "active", (status, paid))
    status, got, _ = browser_call(s.base, "GET", f"/v1/payment_intents/{intent_id}",
                                  query=[("key", pk), ("client_secret", secret)])
    check("GET of the PaymentIntent with its client_secret and the publishable key", status == 200
          and got["id"] == intent_id, (status, got))
    status, got, _ = browser_call(s.base, "GET", f"/v1/payment_intents/{intent_id}",
                                  query=[("key", pk), ("client_secret", "pi_x_secret_y")])
    check("... and with another client_secret: 400", status == 400, (status, got))

    seti = s.ok("POST", "/v1/setup_intents", [("customer", buyer), ("usage", "off_session")])
    confirm = f"/v1/setup_intents/{seti['id']}/confirm"
    _, declining, _ = browser_call(s.base, "POST", "/v1/payment_methods", card("4000000000000002"))
    status, err, _ = browser_call(s.base, "POST", confirm, [("payment_method", declining["id"]),
                                                           ("client_secret", seti["client_secret"]), ("key", pk)])
    check("SetupIntent confirmed with 0002: 402 card_declined", status == 402
          and err["error"]["code"] == "card_declined", (status, err))
    _, good, _ = browser_call(s.base, "POST", "/v1/payment_methods", card("5555555555554444"))
    status, done, _ = browser_call(s.base, "POST", confirm, [("payment_method", good["id"]),
                                                            ("client_secret", seti["client_secret"]), ("key", pk)])
    check("... then with 5555 5555 5555 4444: succeeded, the card attached to the customer", status == 200
          and done["status"] == "succeeded" and done["payment_method"] == good["id"]
          and s.ok("GET", f"/v1/payment_methods/{good['id']}")["customer"] == buyer, (status, done))


def main():
    started = time.monotonic()
    hooks = Hooks()
    httpd = start_webhook_receiver(hooks)
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, str(HERE / "localstripe_loopback.py"), str(port)],
                            stdout=subprocess.DEVNULL, stderr=log)
    stripe = Stripe(f"http://127.0.0.1:{port}")
    try:
        if check("localstripe_loopback.py starts", wait_ready(stripe, proc)):
            try:
                scenario(stripe, hooks, f"http://127.0.0.1:{httpd.server_address[1]}/webhook")
            except Exception as err:  # a call that should have worked did not
                check("scenario ran to its end", False, repr(err))
            try:
                scenario_payments(stripe, hooks, stripe.base)
            except Exception as err:
                check("payments scenario ran to its end", False, repr(err))
            try:
                scenario_stripe_js(stripe)
            except Exception as err:
                check("Stripe.js scenario ran to its end", False, repr(err))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        httpd.shutdown()
        httpd.server_close()
    if results["failed"]:
        log.seek(0)
        tail = log.read().decode("utf-8", "replace")[-3000:]
        if tail.strip():
            print("--- localstripe stderr (tail) ---\n" + tail)
    log.close()
    print(f"({time.monotonic() - started:.1f} s)")
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
