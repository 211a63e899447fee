"""Makes localstripe (1.15.10, Stripe's 2017 API) answer the calls our production Stripe client makes,
in today's API shape. `localstripe_loopback.py` loads it: `localstripe_compat.install(app)`.

localstripe keeps plans, subscriptions and invoices as Python objects; this module patches a few of
their methods, rewrites request parameters, and adds one aiohttp middleware for idempotency, one for
the routes localstripe lacks (or answers wrongly), and one, ahead of localstripe's API-key check, for
the billing portal page. Everything else is localstripe's own: charging goes through its
PaymentIntent/Charge code, and every event through its `Event` + `schedule_webhook` (so it is listed by
`GET /v1/events` and delivered signed, about 1 s later, to each `POST /_config/webhooks/<id>`).
Nothing here prints or logs request bodies, keys or webhook secrets.

Calls made to work, and how
---------------------------
Prices (localstripe has plans only)
- `items[N][price]=<id>` anywhere an item is given (subscription create/update, invoices/upcoming,
  subscription_items, ...): `server.unflatten_data` is wrapped so that any `price` parameter holding a
  string (outside `metadata`) is renamed `plan`. A price *is* the plan with the same id.
- `POST /v1/prices` with `id` (a local-only extension; default `price_<random>`), `unit_amount`,
  `currency`, `recurring[interval]`, optional `recurring[interval_count]`, `product_data[name]` or
  `product`, `nickname`, `metadata[...]`: creates the plan of that id, or answers the existing one.
  Only recurring prices are supported (400 otherwise).
- `GET /v1/prices/<id>`: the plan rendered as a price (404 `resource_missing` otherwise).
- Every subscription item (and invoice line with a plan) also carries `price`: `{id, object: "price",
  unit_amount, currency, recurring: {interval, interval_count, ...}, active, type: "recurring",
  product, ...}`, next to localstripe's own `plan`.

`POST /v1/subscriptions` (patched `Subscription.__init__` and `_create_invoice`)
- `customer`, `items[0][price]`, `metadata[...]`, `expand[]=latest_invoice` / `expand[0]=...`, as before.
- `collection_method=charge_automatically` (default): localstripe charges the customer's default
  payment method at once; paid -> `active`, failed -> `incomplete` (invoice left open).
- `collection_method=send_invoice` + `days_until_due` (required): the first invoice is finalized and
  left open, not charged, with `due_date = now + days_until_due*86400`; the subscription is `active`.
- `payment_behavior=allow_incomplete` (default) as above, and a customer with no payment method gets an
  `incomplete` subscription whose first invoice is open (localstripe itself answered 404);
  `error_if_incomplete`: a failed first payment
  answers 402 `card_error` and the subscription is not kept; `default_incomplete`: the first invoice is
  left open with an unconfirmed PaymentIntent (confirm it, or `POST /v1/invoices/<id>/pay`), the
  subscription stays `incomplete` until it is paid. `pending_if_incomplete` is refused (update only).
- `cancel_at` (unix seconds), `proration_behavior` (accepted).
- `default_payment_method=pm_...` (must be attached to `customer`, else 400 `resource_missing` with
  `param: default_payment_method`, and nothing is created): charged instead of the customer's default.
- `payment_settings[save_default_payment_method]=on_subscription|off` (default `off`): with
  `on_subscription`, whenever one of its invoices is paid through a PaymentIntent, the PaymentIntent's
  payment method is attached to the customer (if it is attached to nobody) and becomes the subscription's
  `default_payment_method` (announced by the same `customer.subscription.updated` as the activation).
- The checkout our client makes: `collection_method=charge_automatically`,
  `payment_behavior=default_incomplete`, `payment_settings[save_default_payment_method]=on_subscription`,
  `expand[0]=latest_invoice.confirmation_secret`, for a customer without a payment method: `incomplete`,
  `latest_invoice` is the open invoice with `confirmation_secret: {client_secret, type: "payment_intent"}`
  (its PaymentIntent is `requires_payment_method`). `POST /v1/payment_intents/<pi>/confirm` with
  `payment_method=pm_...` then pays it: `payment_intent.succeeded`, `invoice.payment_succeeded`, and
  `customer.subscription.updated` (`previous_attributes` has `status: incomplete`,
  `default_payment_method: null`); the subscription is `active` with that `default_payment_method`.

Subscription shape (patched `_export` of Subscription, SubscriptionItem, Invoice, Event), for
`GET /v1/subscriptions/<id>`, every answer and every event: localstripe's fields plus
`collection_method`, `days_until_due`, `pause_collection` (null or `{behavior, resumes_at}`),
`pending_update` (null or `{expires_at, subscription_items, ...}`), `billing_cycle_anchor`,
`default_payment_method` (null or a `pm_` id; the PaymentMethod with `expand[]=default_payment_method`),
`default_source` (null), `payment_settings` (`{save_default_payment_method, payment_method_types: null,
payment_method_options: null}`); each item has `price`, `current_period_start`, `current_period_end`,
`subscription`; `latest_invoice` (id, or the invoice when expanded) also has `due_date`,
`hosted_invoice_url` and `invoice_pdf` (in Stripe's shape: `https://invoice.stripe.com/i/acct_localstripe/<id>`,
`https://pay.stripe.com/invoice/acct_localstripe/<id>/pdf`; nothing answers there offline), `amount_remaining`, `paid`, `paid_out_of_band` and
`confirmation_secret`: `{"client_secret": <its PaymentIntent's client_secret>, "type": "payment_intent"}`
while it is open with a PaymentIntent, else null. Real Stripe renders `confirmation_secret` only when
expanded; here it is always rendered, and `expand[]=latest_invoice.confirmation_secret` (subscriptions)
or `expand[]=confirmation_secret` (`GET /v1/invoices/<id>`) are accepted. Events also have
`pending_webhooks` and `request`.

`POST /v1/subscriptions/<id>` (patched `Subscription._api_update`); answers the subscription
- `cancel_at=<unix>` sets it, `cancel_at=` clears it. When `cancel_at` passes, a 0.5 s ticker cancels
  the subscription (`ended_at = cancel_at`, `canceled_at` = when it was scheduled) and
  `customer.subscription.deleted` is emitted.
- `pause_collection[behavior]=void|keep_as_draft|mark_uncollectible`, `pause_collection[resumes_at]`;
  `pause_collection=` clears it. The ticker clears it at `resumes_at`. (Stored and rendered only:
  localstripe has no renewals to pause.)
- `items[0][id]=si_...` + `items[0][price]` (and/or `items[0][quantity]`): the same item moves to the
  new price. `proration_behavior`:
  - `none`: the price changes, nothing is invoiced (the next period would bill the new price).
  - `create_prorations`: a pending proration invoice item (possibly negative) is left for the next
    invoice, the price changes.
  - `always_invoice`: an invoice of max(0, round((new - old amount) * remaining / period length)) is
    created and charged now through localstripe's charging of the default payment method
    (`send_invoice` subscriptions: left open with its `due_date`). `payment_behavior`:
    `allow_incomplete` (default) applies the change even if the payment fails (status `past_due`);
    `pending_if_incomplete` leaves the item unchanged and sets `pending_update` when it fails - the
    change is applied when that invoice is later paid (`/pay`, confirmed PaymentIntent, or out of
    band); `error_if_incomplete` answers 402 and changes nothing (the invoice is voided).
  Only one item per subscription (a localstripe limit); `items[0][id]` is required.
- `default_payment_method=pm_...` (must be attached to the subscription's customer, else 400
  `resource_missing`, `param: default_payment_method`); `default_payment_method=` clears it.
  `payment_settings[save_default_payment_method]=on_subscription|off`.
- `metadata[k]=v` (`metadata[k]=` removes k), `collection_method`, `days_until_due`, and whatever
  localstripe already accepted (`cancel_at_period_end`, `trial_end`, ...).
- After an update that changed something, `customer.subscription.updated` is emitted with
  `data.object` = the subscription and `data.previous_attributes` = the top-level fields as they were
  (no-op updates emit nothing, like Stripe). The same event is emitted when an invoice payment moves
  a subscription out of `incomplete`/`past_due` or applies its pending update.

`DELETE /v1/subscriptions/<id>` (patched `Subscription._api_delete`), optional form `prorate`,
`invoice_now` (accepted, no effect): status `canceled`, `canceled_at`, `ended_at`; emits
`customer.subscription.deleted`. An already canceled subscription answers 400 `invalid_request_error`
(`code: resource_missing`, "No such subscription: '<id>'"; real Stripe answers this with 404).

Idempotency (middleware): for POST and DELETE under `/v1/` with an `Idempotency-Key` header, the key
remembers (method, path, parameters) and the answer (2xx, or 402). The same key with the same request
answers that answer again without doing anything (header `Idempotent-Replayed: true`); with another
method, path or parameters, 400 `idempotency_error`. Requests with one key run one at a time, so two
racing requests create one object. Other answers (validation errors, 5xx) are not remembered. This
covers every route here (setup intents and their confirm, payment intent confirm, billing portal).

Charging (patched `Invoice._api_pay_invoice`, used by subscription creation, `always_invoice` prorations
and `/pay`; localstripe has no renewals): the subscription's `default_payment_method` if set, else the
customer's `invoice_settings.default_payment_method` (or default source), as Stripe chooses. An invoice
that already has an unconfirmed or failed PaymentIntent is charged through that PaymentIntent (its
`client_secret` stays valid) instead of a new one.

`POST /v1/invoices/<id>/pay`: that charge, answering 402 `card_error` when the charge is declined;
`paid_out_of_band=true` marks it paid without charging (emits `invoice.paid`, cancels its unconfirmed
PaymentIntent, activates an incomplete subscription, applies a pending update). Note that a charged
payment emits `invoice.payment_succeeded` (localstripe's), not `invoice.paid`.
`POST /v1/refunds` with `charge` or `payment_intent` and optional `amount` already works in localstripe.

`POST /v1/payment_intents/<id>/confirm` (localstripe answered 500 to `payment_method`):
`payment_method=pm_...` (optional when the PaymentIntent has one; 400 `resource_missing` if unknown, 400
if attached to another customer), optional `client_secret` (must match), `setup_future_usage`
(`off_session`/`on_session`: the method is attached to the PaymentIntent's customer on success),
`return_url`, `off_session`, `use_stripe_sdk`, `mandate_data` (accepted). Only a PaymentIntent in
`requires_payment_method` or `requires_confirmation` can be confirmed (else 400
`payment_intent_unexpected_state`; a failed one can be confirmed again with another method). Success
answers the PaymentIntent (`succeeded`; `processing` for SEPA) and pays its invoice as above; a decline
answers 402 `card_error` (`code: card_declined`, `decline_code`, `charge`, `payment_intent`) after
`payment_intent.payment_failed` and `invoice.payment_failed`, the invoice staying open. 3-D Secure test
cards leave it `requires_action` (localstripe's).

Payment methods and test cards
- Make a card with `POST /v1/payment_methods` `type=card`, `card[number]=4242424242424242`,
  `card[exp_month]=12`, `card[exp_year]=2030`, `card[cvc]=123` (all four required; 16 digits), then
  `POST /v1/payment_methods/<id>/attach` `customer=cus_...`. `type=sepa_debit` +
  `sepa_debit[iban]=DE62370400440532013001` is a SEPA account whose debits fail (0.5 s later).
- Stripe's test ids work wherever a payment method id is read (`payment_method`, `invoice_settings[...]`,
  `GET /v1/payment_methods/<id>`): each use creates a fresh, unattached PaymentMethod (a new `pm_` id),
  as Stripe does. `pm_card_visa` (4242, pays), `pm_card_mastercard` (5555 5555 5555 4444, pays),
  `pm_card_chargeCustomerFail` (0341: attaches, every charge declined), `pm_card_chargeDeclined` and
  `pm_card_visa_chargeDeclined` (0002: attaching, setting up and charging are declined). Charges of
  every card that localstripe declines on attach (0002, 9995, 9987, 9979, 0069, 0127, 0119) are
  declined too (localstripe let them pass).
- A card renders `card: {brand (from the number: visa, mastercard, ...), display_brand, last4,
  exp_month, exp_year, country, fingerprint, funding, checks: {cvc_check: "pass", ...}, networks,
  three_d_secure_usage, wallet: null}`, never the number or the cvc (localstripe keeps the number
  private; nothing here renders it).

Customers (patched `Customer._api_create` / `_api_update`)
- `invoice_settings[default_payment_method]=pm_...` on create or update must be attached to the
  customer (or be the `payment_method` given on create), else 400 `resource_missing`, `param:
  invoice_settings[default_payment_method]`; `=` clears it. A Stripe test id (`pm_card_visa`, ...) is
  resolved to a fresh PaymentMethod, attached to the customer (402 `card_declined` for 0002), and its
  real id is stored. Other `invoice_settings[...]` fields are kept on update (localstripe replaced the
  whole `invoice_settings`).
- `GET /v1/customers/<id>?expand[]=invoice_settings.default_payment_method` renders the PaymentMethod
  (localstripe's own expansion).

SetupIntents (localstripe's `SetupIntent`, patched `__init__`, own confirm route)
- `POST /v1/setup_intents` `customer` (400 `resource_missing` if unknown), `usage=off_session` (default)
  or `on_session`, `metadata[...]` (round-trips), `payment_method_types[0]=card`, `description`:
  `status: requires_payment_method`, `client_secret` (`<id>_secret_...`), `last_setup_error: null`.
- `POST /v1/setup_intents/<id>/confirm` `payment_method=pm_...` (or `payment_method_data[...]`, or the
  one it has), optional `client_secret`, `return_url`, `use_stripe_sdk`, `mandate_data`: only from
  `requires_payment_method`/`requires_confirmation` (else 400 `setup_intent_unexpected_state`). Success:
  `status: succeeded`, `payment_method` = the id, the method is attached to the SetupIntent's customer
  (400 if attached to another), and `setup_intent.succeeded` is emitted with `data.object` = the
  SetupIntent `{id, object: "setup_intent", customer, payment_method, status: "succeeded", metadata,
  usage, client_secret, payment_method_types, last_setup_error: null, next_action: null, created, ...}`.
  A declined card (0002 & co.): 402 `card_error` `card_declined` (with `setup_intent`), the SetupIntent
  back to `requires_payment_method` with `payment_method: null` and `last_setup_error: {code:
  "card_declined", decline_code: "generic_decline", message, type: "card_error"}`, and
  `setup_intent.setup_failed` is emitted; it can be confirmed again. 3-D Secure test cards (e.g.
  4000002500003155): `requires_action` and `setup_intent.requires_action`; confirming it again without a
  payment method completes the authentication (as localstripe's Stripe.js shim does) and succeeds as
  above; `POST /v1/setup_intents/<id>/cancel` is localstripe's.

`POST /v1/billing_portal/sessions` `customer` (400 `resource_missing` if unknown, 400 if absent),
`return_url` (http(s), optional), `configuration`, `locale`, `flow_data`, `on_behalf_of` (accepted):
`{id: "bps_...", object: "billing_portal.session", url, customer, return_url, created, livemode: false,
locale, configuration, flow: null, on_behalf_of}`. `url` is `http://<this server>/billing_portal/sessions/
<id>`, a page served without an API key that only links back to `return_url` (nothing can be changed).

Stripe.js in the browser (middleware ahead of localstripe's API-key check)
- `GET /js.stripe.com/v3/` answers our own Stripe.js (`stripe_js_v3.js`, beside this file) in place of
  localstripe's, whose `confirmCardPayment` ignores the typed card and only plays a 3-D Secure prompt
  that answers 400 on a PaymentIntent waiting for its payment method. Ours makes the payment method from
  the card typed into its card element and confirms the intent with it (see the file's header).
- The calls it makes with the publishable key (`key=pk_...` in the form, no Authorization, as Stripe.js):
  `POST /v1/payment_methods` (`type=card` only), `POST /v1/payment_intents/<id>/confirm` and
  `POST /v1/setup_intents/<id>/confirm` (both only with the intent's `client_secret`: 400 without), and
  `GET /v1/{payment,setup}_intents/<id>?key=pk_...&client_secret=...`. localstripe's CORS headers let a
  page on another local port read the answers.
"""

import asyncio
import copy
import html
import inspect
import logging
import re
import time
import types
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import (Customer, Event, Invoice, InvoiceItem, InvoiceLineItem, PaymentIntent,
                                   PaymentMethod, Plan, SetupIntent, StripeObject, Subscription,
                                   SubscriptionItem, random_id, schedule_webhook, store, try_convert_to_bool,
                                   try_convert_to_int)
from localstripe.webhooks import _webhooks

DAY = 86400
_MISSING = object()
_log = logging.getLogger("localstripe_compat")
_orig = {}  # the localstripe functions this module wraps


def _error(status, message, type_="invalid_request_error", **fields):
    err = UserError(status, message, fields)
    err.body["error"]["type"] = type_
    return err


def _timestamp(value, name):
    """None for absent/empty, else unix seconds (400 if not)."""
    if value is None or value == "":
        return None
    seconds = try_convert_to_int(value)
    if type(seconds) is not int or seconds <= 1500000000:
        raise _error(400, f"Invalid timestamp for {name}", param=name)
    return seconds


def _unknown(data, prefix=""):
    if data:
        raise _error(400, "Received unknown parameters: " + ", ".join(prefix + key for key in sorted(data)))


def _split_expand(expand, own):
    """(the paths localstripe expands, the paths this module expands: those starting with a field in `own`)."""
    if type(expand) is not list:
        return expand, []
    ours = [path for path in expand if type(path) is str and path.split(".", 1)[0] in own]
    return [path for path in expand if path not in ours], ours


def _expand(obj, path):
    """localstripe's expansion of one path, for the fields this module adds."""
    head, _, rest = path.partition(".")
    if head not in obj:
        raise _error(400, f"Bad expand '{head}'")
    value = obj[head]
    if type(value) is str:
        cls = StripeObject._get_class_for_id(value)
        if cls is None:
            raise _error(400, f"Bad expand '{head}'")
        value = obj[head] = cls._api_retrieve(value)._export()
    if rest and isinstance(value, dict):
        _expand(value, rest)


# ---- payment methods ------------------------------------------------------------------------------

# Stripe's test PaymentMethod ids that localstripe lacks (it has pm_card_visa, pm_card_visa_chargeDeclined
# and pm_card_chargeCustomerFail): each use makes a fresh PaymentMethod of that card.
_TEST_CARDS = {"pm_card_chargeDeclined": "4000000000000002", "pm_card_mastercard": "5555555555554444"}


def _is_test_id(value):
    return type(value) is str and value.startswith("pm_card_")


def _brand(number):
    digits = number if number.isdigit() else ""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("51", "52", "53", "54", "55") or (digits and 2221 <= int(digits[:4]) <= 2720):
        return "mastercard"
    if digits[:2] in ("34", "37"):
        return "amex"
    if digits.startswith("6011") or digits.startswith("65"):
        return "discover"
    return "unknown"


def _payment_method_init(self, *args, **kwargs):
    _orig["payment_method_init"](self, *args, **kwargs)
    if self.type == "card":
        brand = _brand(self._card_number)
        self.card.update(brand=brand, display_brand=brand, generated_from=None, wallet=None,
                         networks={"available": [brand], "preferred": None},
                         checks={"address_line1_check": None, "address_postal_code_check": None,
                                 "cvc_check": "pass"})


@classmethod
def _payment_method_test_article(cls, id):
    number = _TEST_CARDS.get(id)
    if number is not None:
        return PaymentMethod(type="card", card={"number": number, "exp_month": "12", "exp_year": "2030",
                                                "cvc": "123"})
    return _orig["payment_method_test_article"](id)


def _charging_is_declined(self):
    """localstripe's, and (as Stripe) every card it declines on attach is declined when charged too."""
    if _orig["payment_method_charging_is_declined"](self):
        return True
    return getattr(self, "type", None) == "card" and PaymentMethod._attaching_is_declined(self)


def _payment_method(value, param):
    """The PaymentMethod `value` names (a test id makes a fresh one), else 400 `resource_missing`."""
    if type(value) is not str or not value.startswith("pm_"):
        raise _error(400, "Invalid payment method id", param=param)
    try:
        return PaymentMethod._api_retrieve(value)
    except UserError:
        raise _error(400, f"No such PaymentMethod: '{value}'", code="resource_missing", param=param) from None


def _attached_payment_method(value, customer, param):
    method = _payment_method(value, param)
    if method.customer is None or method.customer != customer:
        raise _error(400, f"The customer does not have a payment method with the ID {method.id}. The payment "
                          "method must be attached to the customer.", code="resource_missing", param=param)
    return method


def _customer_or_400(value, param="customer"):
    if type(value) is not str or not value:
        raise _error(400, f"Missing required param: {param}.", param=param)
    customer = store.get("customer:" + value)
    if customer is None:
        raise _error(400, f"No such customer: '{value}'", code="resource_missing", param=param)
    return customer


def _payment_method_for(customer_id, sub=None):
    """What Stripe charges: the subscription's default payment method, else the customer's default."""
    method_id = getattr(sub, "_default_payment_method", None) if sub is not None else None
    if method_id:
        return PaymentMethod._api_retrieve(method_id)
    return Customer._api_retrieve(customer_id)._get_default_payment_method_or_source()


# ---- customers ------------------------------------------------------------------------------------

_SETTINGS_PARAM = "invoice_settings[default_payment_method]"


def _invoice_settings(data):
    settings = data.get("invoice_settings", _MISSING)
    if settings is _MISSING:
        return None
    if type(settings) is not dict:
        raise _error(400, "Invalid invoice_settings", param="invoice_settings")
    return settings


def _attach_test_card(value, customer_id, param=_SETTINGS_PARAM):
    """A fresh PaymentMethod for the test id `value`, attached to `customer_id` (402 if declined)."""
    method = _payment_method(value, param)
    if method._attaching_is_declined():
        raise _error(402, "Your card was declined.", "card_error", code="card_declined",
                     decline_code="generic_decline", param=param)
    if customer_id is not None:
        method.customer = customer_id
    return method


@classmethod
def _customer_api_create(cls, source=None, **data):
    settings = _invoice_settings(data)
    default = settings.get("default_payment_method") if settings else None
    given = data.get("payment_method")
    test_default = None
    if _is_test_id(given):
        method = _attach_test_card(given, None, "payment_method")
        if default == given:
            default = settings["default_payment_method"] = method.id
        data["payment_method"] = given = method.id
    if default == "":
        settings["default_payment_method"] = default = None
    if _is_test_id(default):
        test_default = _attach_test_card(default, None)
        settings["default_payment_method"] = test_default.id
    elif default is not None and default != given:
        # A new customer has no payment method but the one it is given.
        _attached_payment_method(default, None, _SETTINGS_PARAM)
    customer = _orig["customer_create"](source=source, **data)
    if test_default is not None:
        test_default.customer = customer.id
    return customer


@classmethod
def _customer_api_update(cls, id, **data):
    customer = Customer._api_retrieve(id)
    settings = _invoice_settings(data)
    if settings is not None:
        default = settings.get("default_payment_method", _MISSING)
        if _is_test_id(default):
            settings["default_payment_method"] = _attach_test_card(default, id).id
        elif default not in (_MISSING, "", None):
            settings["default_payment_method"] = _attached_payment_method(default, id, _SETTINGS_PARAM).id
        data["invoice_settings"] = {**(customer.invoice_settings or {}), **settings}
    return _orig["customer_update"](id, **data)


# ---- prices ---------------------------------------------------------------------------------------

def _price(plan):
    """A localstripe plan in today's price shape."""
    return {
        "id": plan.id, "object": "price", "active": plan.active, "billing_scheme": plan.billing_scheme,
        "created": plan.created, "currency": plan.currency, "livemode": False, "lookup_key": None,
        "metadata": dict(plan.metadata or {}), "nickname": plan.nickname, "product": plan.product,
        "recurring": {"interval": plan.interval, "interval_count": plan.interval_count,
                      "usage_type": plan.usage_type, "aggregate_usage": None,
                      "trial_period_days": plan.trial_period_days},
        "tax_behavior": "unspecified", "tiers_mode": plan.tiers_mode, "type": "recurring",
        "unit_amount": plan.amount,
        "unit_amount_decimal": None if plan.amount is None else str(plan.amount),
    }


def _prices_to_plans(data):
    """Renames every string `price` parameter `plan` (never inside metadata)."""
    if isinstance(data, list):
        for value in data:
            _prices_to_plans(value)
    elif isinstance(data, dict):
        if isinstance(data.get("price"), str) and "plan" not in data:
            data["plan"] = data.pop("price")
        for key, value in data.items():
            if key != "metadata":
                _prices_to_plans(value)
    return data


def _plan_or_404(price_id):
    obj = store.get("plan:" + str(price_id))
    if obj is None:
        raise _error(404, f"No such price: '{price_id}'", code="resource_missing", param="price")
    return obj


async def _create_price(request):
    data = await server.get_post_data(request) or {}
    data.pop("expand", None)
    price_id = data.pop("id", None) or "price_" + random_id(14)
    if type(price_id) is not str:
        raise _error(400, "Invalid id", param="id")
    existing = store.get("plan:" + price_id)
    if existing is not None:
        return server.json_response(_price(existing))
    recurring = data.pop("recurring", None)
    if type(recurring) is not dict or not recurring.get("interval"):
        raise _error(400, "localstripe_compat supports recurring prices only: recurring[interval] is required",
                     param="recurring")
    product, product_data = data.pop("product", None), data.pop("product_data", None)
    if (product is None) == (product_data is None):
        raise _error(400, "Exactly one of product and product_data is required", param="product")
    plan = Plan(id=price_id, amount=data.pop("unit_amount", None), currency=data.pop("currency", None),
                interval=recurring.get("interval"), interval_count=recurring.get("interval_count", 1),
                product=product if product is not None else product_data,
                nickname=data.pop("nickname", None), metadata=data.pop("metadata", None),
                active=data.pop("active", True))
    if data:
        raise _error(400, "Received unknown parameters: " + ", ".join(sorted(data)))
    return server.json_response(_price(plan))


async def _get_price(request, id):
    return server.json_response(_price(_plan_or_404(id)))


# ---- invoices -------------------------------------------------------------------------------------

def _invoice_export(self, expand=None):
    expand, ours = _split_expand(expand, ("confirmation_secret",))
    obj = _orig["invoice_export"](self, expand=expand)
    obj["due_date"] = getattr(self, "_due_date", None)
    obj["hosted_invoice_url"] = (None if not self.id or obj["status"] == "draft"
                                 else f"https://invoice.stripe.com/i/acct_localstripe/{self.id}")
    obj["invoice_pdf"] = (None if obj["hosted_invoice_url"] is None
                          else f"https://pay.stripe.com/invoice/acct_localstripe/{self.id}/pdf")
    obj["amount_remaining"] = obj["amount_due"] - obj["amount_paid"]
    obj["paid"] = obj["status"] == "paid"
    obj["paid_out_of_band"] = getattr(self, "_paid_out_of_band", False)
    intent = store.get("payment_intent:" + self.payment_intent) if self.payment_intent else None
    obj["confirmation_secret"] = (
        {"client_secret": intent.client_secret, "type": "payment_intent"}
        if intent is not None and obj["status"] == "open" and intent.status not in ("succeeded", "canceled")
        else None)
    for path in ours:
        _expand(obj, path)
    return obj


def _invoice_status(self):
    if getattr(self, "_paid_out_of_band", False) and not self._voided:
        return "paid"
    return _orig["invoice_status"](self)


def _line_export(self, expand=None):
    obj = _orig["line_export"](self, expand=expand)
    if self.plan is not None:
        obj["price"] = _price(self.plan)
    return obj


def _invoice_on_payment_success(self):
    """localstripe's, then: the payment method is saved on the subscription (save_default_payment_method),
    a pending update waiting for this invoice is applied, and the subscription's change (status, items,
    default payment method) is announced."""
    sub = store.get("subscription:" + self.subscription) if self.subscription else None
    before = sub._export() if sub is not None and getattr(sub, "_compat_created", False) else None
    _orig["invoice_on_payment_success"](self)
    if sub is not None:
        _save_default_payment_method(sub, self)
    _apply_pending(self)
    if before is not None:
        _emit_updated(sub, before)


def _save_default_payment_method(sub, inv):
    settings = getattr(sub, "_payment_settings", None) or {}
    if settings.get("save_default_payment_method") != "on_subscription" or not inv.payment_intent:
        return
    intent = store.get("payment_intent:" + inv.payment_intent)
    method = store.get("payment_method:" + str(intent.payment_method)) if intent is not None else None
    if method is None:  # a legacy card_/src_ source: not saved
        return
    if method.customer is None:
        method.customer = sub.customer
    if method.customer == sub.customer:
        sub._default_payment_method = method.id


@classmethod
def _invoice_api_pay(cls, id):
    """localstripe's `_api_pay_invoice`, charging what Stripe charges (`_payment_method_for`) through the
    invoice's own PaymentIntent when it has one still to confirm."""
    inv = Invoice._api_retrieve(id)
    if inv.status == "paid":
        raise UserError(400, "Invoice is already paid")
    if inv.status not in ("draft", "open"):
        raise UserError(400, "Bad request")
    inv._draft = False
    if inv.total <= 0:
        inv._on_payment_success()
        return inv
    sub = store.get("subscription:" + inv.subscription) if inv.subscription else None
    method = _payment_method_for(inv.customer, sub)
    if method is None:
        raise UserError(404, "This customer has no payment method")
    intent = store.get("payment_intent:" + inv.payment_intent) if inv.payment_intent else None
    if intent is not None and intent.status in ("requires_payment_method", "requires_confirmation") \
            and intent.amount == inv.total:
        intent.payment_method, intent.latest_charge = method.id, None
    else:
        intent = PaymentIntent(amount=inv.total, currency=inv.currency, customer=inv.customer,
                               payment_method=method.id)
        intent.invoice, inv.payment_intent = inv.id, intent.id
    intent._confirm(on_failure_now=lambda: None)
    return inv


def _new_invoice(sub, items, reason, date):
    """A finalized invoice of `sub` (items + the customer's pending invoice items), not yet paid."""
    inv = Invoice(customer=sub.customer, subscription=sub.id, items=items, tax_percent=sub.tax_percent,
                  default_tax_rates=[tr.id for tr in sub.default_tax_rates] if sub.default_tax_rates else None,
                  date=date)
    inv.billing_reason = reason
    inv._finalize()
    if getattr(sub, "_collection_method", "charge_automatically") == "send_invoice":
        inv.collection_method = "send_invoice"
        inv._due_date = int(time.time()) + sub._days_until_due * DAY
    return inv


def _collect(inv):
    """Charges `inv` as localstripe does: 'paid', 'processing' (SEPA pending) or 'failed'."""
    if inv.total <= 0:
        inv._on_payment_success()
        return "paid"
    try:
        Invoice._api_pay_invoice(inv.id)
    except UserError:  # e.g. the customer has no payment method
        return "failed"
    if inv.status == "paid":
        return "paid"
    charge = inv.charge
    return "processing" if charge is not None and charge.status == "pending" else "failed"


async def _pay_invoice(request, id):
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    out_of_band = try_convert_to_bool(data.pop("paid_out_of_band", False))
    data.pop("off_session", None)
    if data:
        raise _error(400, "Received unknown parameters: " + ", ".join(sorted(data)))
    if type(out_of_band) is not bool:
        raise _error(400, "Invalid boolean", param="paid_out_of_band")
    inv = Invoice._api_retrieve(id)
    if not out_of_band:
        Invoice._api_pay_invoice(id)
        charge = inv.charge
        if inv.status != "paid" and charge is not None and charge.status == "failed":
            raise _error(402, charge.failure_message, "card_error", code=charge.failure_code, charge=charge.id)
        return server.json_response(inv._export(expand=expand))
    if inv.status == "paid":
        raise _error(400, "Invoice is already paid")
    if inv.status not in ("draft", "open"):
        raise _error(400, f"You cannot pay an invoice with status {inv.status}")
    sub = store.get("subscription:" + inv.subscription) if inv.subscription else None
    before = sub._export() if sub is not None else None
    if inv._draft:
        inv._finalize()
    intent = store.get("payment_intent:" + inv.payment_intent) if inv.payment_intent else None
    if intent is not None and intent.status in ("requires_payment_method", "requires_confirmation",
                                                "requires_action"):
        intent._canceled, intent.next_action = True, None
    inv._paid_out_of_band = True
    inv.status_transitions["paid_at"] = int(time.time())
    schedule_webhook(Event("invoice.paid", inv))
    if sub is not None:
        if sub.status in ("incomplete", "past_due"):
            sub.status = "active"
        _apply_pending(inv)
        _emit_updated(sub, before)
    return server.json_response(inv._export(expand=expand))


# ---- subscriptions --------------------------------------------------------------------------------

def _emit_updated(sub, before):
    """customer.subscription.updated with previous_attributes, if anything changed since `before`."""
    after = sub._export()
    previous = {k: before.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
    if not previous:
        return
    event = Event("customer.subscription.updated", sub)
    event.data["previous_attributes"] = previous
    schedule_webhook(event)


def _cancel(sub, canceled_at, ended_at):
    sub.canceled_at, sub.ended_at, sub.status = canceled_at, ended_at, "canceled"
    sub._pending_update = sub._pending_invoice = None
    schedule_webhook(Event("customer.subscription.deleted", sub))


_SAVE_DEFAULT = ("off", "on_subscription")


def _payment_settings(value, current):
    """The subscription's payment_settings after `value` (400 if invalid)."""
    settings = dict(current or {"save_default_payment_method": "off", "payment_method_types": None,
                                "payment_method_options": None})
    if value is None or value == "":
        return settings
    if type(value) is not dict:
        raise _error(400, "Invalid payment_settings", param="payment_settings")
    value = dict(value)
    save = value.pop("save_default_payment_method", _MISSING)
    types_ = value.pop("payment_method_types", _MISSING)
    _unknown(value, "payment_settings")
    if save is not _MISSING:
        if save not in _SAVE_DEFAULT:
            raise _error(400, "Invalid payment_settings[save_default_payment_method]",
                         param="payment_settings[save_default_payment_method]")
        settings["save_default_payment_method"] = save
    if types_ is not _MISSING:
        if types_ != "" and (type(types_) is not list or not all(type(t) is str for t in types_)):
            raise _error(400, "Invalid payment_settings[payment_method_types]",
                         param="payment_settings[payment_method_types]")
        settings["payment_method_types"] = types_ or None
    return settings


def _subscription_init(self, collection_method="charge_automatically", days_until_due=None, cancel_at=None,
                       payment_behavior="allow_incomplete", proration_behavior=None, default_payment_method=None,
                       payment_settings=None, **kwargs):
    settings = _payment_settings(payment_settings, None)
    default_method = None
    if default_payment_method not in (None, ""):
        customer = kwargs.get("customer")
        if type(customer) is str and customer.startswith("cus_"):
            Customer._api_retrieve(customer)  # 404 as localstripe answers
        default_method = _attached_payment_method(default_payment_method, customer, "default_payment_method").id
    days = try_convert_to_int(days_until_due)
    cancel_at = _timestamp(cancel_at, "cancel_at")
    if collection_method not in ("charge_automatically", "send_invoice"):
        raise _error(400, "Invalid collection_method", param="collection_method")
    if collection_method == "send_invoice" and (type(days) is not int or days < 0):
        raise _error(400, "Missing required param: days_until_due.", param="days_until_due")
    if collection_method != "send_invoice" and days_until_due is not None:
        raise _error(400, "days_until_due is only for collection_method=send_invoice", param="days_until_due")
    if payment_behavior not in ("allow_incomplete", "default_incomplete", "error_if_incomplete"):
        raise _error(400, "Invalid payment_behavior", param="payment_behavior")
    if proration_behavior not in (None, "always_invoice", "create_prorations", "none"):
        raise _error(400, "Invalid proration_behavior", param="proration_behavior")
    self._collection_method = collection_method
    self._days_until_due = days if collection_method == "send_invoice" else None
    self._payment_behavior = payment_behavior
    self._pause_collection = self._pending_update = self._pending_invoice = self._cancel_requested_at = None
    self._default_payment_method, self._payment_settings = default_method, settings
    _orig["subscription_init"](
        self, **kwargs,
        payment_behavior="allow_incomplete" if payment_behavior == "default_incomplete" else payment_behavior,
        proration_behavior=None if proration_behavior == "always_invoice" else proration_behavior)
    if cancel_at is not None:
        self.cancel_at, self._cancel_requested_at = cancel_at, int(time.time())
        for key, event in list(store.items()):  # localstripe rendered it before cancel_at was set
            if (key.startswith("event:") and event.type == "customer.subscription.created"
                    and event.data["object"].get("id") == self.id):
                event.data = {"object": self._export()}
    self._compat_created = True


def _subscription_create_invoice(self):
    behaviour = getattr(self, "_payment_behavior", "allow_incomplete")
    charged = getattr(self, "_collection_method", "charge_automatically") == "charge_automatically"
    if charged and behaviour == "error_if_incomplete" and _payment_method_for(self.customer, self) is None:
        raise _error(402, "This customer has no attached payment source or default payment method.",
                     "card_error", code="payment_method_missing")
    # Stripe, unlike localstripe (404), keeps a subscription whose customer has no payment method as
    # `incomplete`, its first invoice open with a PaymentIntent that needs one.
    no_method = charged and behaviour == "allow_incomplete" and _payment_method_for(self.customer, self) is None
    if getattr(self, "_collection_method", "charge_automatically") == "send_invoice" \
            or behaviour == "default_incomplete" or no_method:
        inv = _new_invoice(self, list(self.items._list), "subscription_create", self.current_period_start)
        if inv.total <= 0:
            inv._on_payment_success()
        elif self._collection_method == "send_invoice":
            self.status = "active"
        else:  # default_incomplete: a PaymentIntent to confirm, as Stripe leaves it
            method = _payment_method_for(self.customer, self)
            intent = PaymentIntent(amount=inv.total, currency=inv.currency, customer=self.customer,
                                   payment_method=method.id if method is not None else None)
            intent.invoice, inv.payment_intent = inv.id, intent.id
        return
    _orig["subscription_create_invoice"](self)
    if self.latest_invoice:
        Invoice._api_retrieve(self.latest_invoice).billing_reason = "subscription_create"
    if behaviour == "error_if_incomplete" and self.status == "incomplete":
        charge = Invoice._api_retrieve(self.latest_invoice).charge
        del store["subscription:" + self.id]
        raise _error(402, charge.failure_message if charge else "The payment could not be completed.",
                     "card_error", code=charge.failure_code if charge else "payment_failed")


def _subscription_export(self, expand=None):
    expand, ours = _split_expand(expand, ("default_payment_method",))
    obj = _orig["subscription_export"](self, expand=expand)
    obj["collection_method"] = getattr(self, "_collection_method", "charge_automatically")
    obj["days_until_due"] = getattr(self, "_days_until_due", None)
    obj["pause_collection"] = copy.deepcopy(getattr(self, "_pause_collection", None))
    obj["pending_update"] = copy.deepcopy(getattr(self, "_pending_update", None))
    obj["billing_cycle_anchor"] = self.billing_cycle_anchor or self.start_date
    obj["default_payment_method"] = getattr(self, "_default_payment_method", None)
    obj["default_source"] = None
    obj["payment_settings"] = _payment_settings(None, getattr(self, "_payment_settings", None))
    for path in ours:
        _expand(obj, path)
    return obj


def _item_export(self, expand=None):
    obj = _orig["item_export"](self, expand=expand)
    obj["price"] = _price(self.plan)
    obj["subscription"] = self._subscription
    try:
        period = self._current_period()
    except UserError:  # its subscription is gone
        period = {"start": None, "end": None}
    obj["current_period_start"], obj["current_period_end"] = period["start"], period["end"]
    return obj


def _amount(plan, quantity):
    """What `quantity` of `plan` costs a period (localstripe's own computation)."""
    shim = types.SimpleNamespace(plan=plan, quantity=quantity)
    shim._calculate_amount_in_tier = lambda q, i: SubscriptionItem._calculate_amount_in_tier(shim, q, i)
    return SubscriptionItem._calculate_amount(shim)


def _apply_item(sub, plan, quantity):
    item = sub.items._list[0]
    item.plan, item.quantity, sub.quantity = plan, quantity, quantity
    sub._pending_update = sub._pending_invoice = None


def _apply_pending(inv):
    """Applies the pending update that waited for `inv` to be paid, if it is still the pending one."""
    pending = getattr(inv, "_compat_pending", None)
    if not pending:
        return
    inv._compat_pending = None
    sub = store.get("subscription:" + pending[0])
    if sub is not None and getattr(sub, "_pending_invoice", None) == inv.id:
        _apply_item(sub, Plan._api_retrieve(pending[1]), pending[2])


def _change_item(sub, plan, quantity, proration, behaviour, at):
    item = sub.items._list[0]
    start, end = sub.current_period_start, sub.current_period_end
    difference = _amount(plan, quantity) - _amount(item.plan, item.quantity)
    prorated = int((Decimal(difference) * max(0, end - at) / max(1, end - start))
                   .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    description = f"Remaining time on {quantity} x {plan.id} after {time.strftime('%Y-%m-%d', time.gmtime(at))}"
    if proration == "none":
        return _apply_item(sub, plan, quantity)
    if proration == "create_prorations":
        if prorated:
            InvoiceItem(amount=prorated, currency=plan.currency, customer=sub.customer, subscription=sub.id,
                        plan=plan.id, proration=True, description=description, period_start=at, period_end=end)
        return _apply_item(sub, plan, quantity)
    InvoiceItem(amount=max(0, prorated), currency=plan.currency, customer=sub.customer, subscription=sub.id,
                plan=plan.id, proration=True, description=description, period_start=at, period_end=end)
    inv = _new_invoice(sub, [], "subscription_update", int(time.time()))
    if sub._collection_method == "send_invoice" or _collect(inv) != "failed":
        return _apply_item(sub, plan, quantity)
    if behaviour == "pending_if_incomplete":
        pending_item = dict(item._export(), plan=plan._export(), price=_price(plan), quantity=quantity)
        sub._pending_update = {"billing_cycle_anchor": None, "expires_at": int(time.time()) + 23 * 3600,
                               "subscription_items": [pending_item], "trial_end": None, "trial_from_plan": None}
        sub._pending_invoice, inv._compat_pending = inv.id, (sub.id, plan.id, quantity)
    elif behaviour == "error_if_incomplete":
        charge = inv.charge
        inv._voided = True
        inv.status_transitions["voided_at"] = int(time.time())
        raise _error(402, charge.failure_message if charge else "The payment could not be completed.",
                     "card_error", code=charge.failure_code if charge else "payment_failed")
    else:
        _apply_item(sub, plan, quantity)
        sub.status = "past_due"


_UPDATE_BEHAVIOURS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
_PAUSE_BEHAVIOURS = ("void", "keep_as_draft", "mark_uncollectible")


@classmethod
def _subscription_api_update(cls, id, **data):
    sub = cls._api_retrieve(id)
    now = int(time.time())
    if sub.status in ("canceled", "incomplete_expired") and set(data) - {"metadata", "expand"}:
        raise _error(400, "A canceled subscription can only update its cancellation_details and metadata.")
    items = data.pop("items", None)
    proration = data.pop("proration_behavior", "create_prorations")
    behaviour = data.pop("payment_behavior", "allow_incomplete")
    at = _timestamp(data.pop("proration_date", None), "proration_date") or now
    cancel_at = data.pop("cancel_at", _MISSING)
    pause = data.pop("pause_collection", _MISSING)
    metadata = data.pop("metadata", _MISSING)
    collection_method = data.pop("collection_method", _MISSING)
    days_until_due = data.pop("days_until_due", _MISSING)
    default_method = data.pop("default_payment_method", _MISSING)
    payment_settings = data.pop("payment_settings", _MISSING)

    # Validate everything before changing anything.
    if proration not in ("always_invoice", "create_prorations", "none"):
        raise _error(400, "Invalid proration_behavior", param="proration_behavior")
    if behaviour not in _UPDATE_BEHAVIOURS:
        raise _error(400, "Invalid payment_behavior", param="payment_behavior")
    unknown = set(data) - (set(inspect.signature(_orig["subscription_update"]).parameters)
                           - {"self", "items", "plan", "quantity", "prorate", "enable_incomplete_payments"})
    if unknown:
        raise _error(400, "Received unknown parameters: " + ", ".join(sorted(unknown)))
    if behaviour == "pending_if_incomplete" and (data or any(
            v is not _MISSING for v in (cancel_at, pause, metadata, collection_method, days_until_due,
                                        default_method, payment_settings))):
        raise _error(400, "With payment_behavior=pending_if_incomplete only items, proration_behavior and "
                          "proration_date can be updated", param="payment_behavior")
    if cancel_at is not _MISSING:
        cancel_at = _timestamp(cancel_at, "cancel_at")
    if pause is not _MISSING and pause != "":
        if (type(pause) is not dict or pause.get("behavior") not in _PAUSE_BEHAVIOURS
                or set(pause) - {"behavior", "resumes_at"}):
            raise _error(400, "Invalid pause_collection", param="pause_collection")
        pause = {"behavior": pause["behavior"],
                 "resumes_at": _timestamp(pause.get("resumes_at"), "pause_collection[resumes_at]")}
    if metadata is not _MISSING and metadata != "" and type(metadata) is not dict:
        raise _error(400, "Invalid metadata", param="metadata")
    if default_method not in (_MISSING, "", None):
        default_method = _attached_payment_method(default_method, sub.customer, "default_payment_method").id
    settings = _payment_settings(None if payment_settings is _MISSING else payment_settings,
                                 getattr(sub, "_payment_settings", None))
    if collection_method is not _MISSING and collection_method not in ("charge_automatically", "send_invoice"):
        raise _error(400, "Invalid collection_method", param="collection_method")
    method = sub._collection_method if collection_method is _MISSING else collection_method
    days = sub._days_until_due if days_until_due is _MISSING else try_convert_to_int(days_until_due)
    if method == "send_invoice" and (type(days) is not int or days < 0):
        raise _error(400, "Missing required param: days_until_due.", param="days_until_due")
    change = None
    if items is not None:
        if type(items) is not list or len(items) != 1 or type(items[0]) is not dict:
            raise _error(400, "localstripe_compat updates exactly one item: items[0]", param="items")
        given, item = items[0], sub.items._list[0]
        if given.get("id") != item.id:
            raise _error(400, f"items[0][id] must be the subscription's item {item.id}", param="items[0][id]")
        if set(given) - {"id", "plan", "quantity"}:
            raise _error(400, "Received unknown parameters: items[0][" + "], items[0][".join(
                sorted(set(given) - {"id", "plan", "quantity"})) + "]")
        plan = _plan_or_404(given.get("plan", item.plan.id))
        quantity = try_convert_to_int(given.get("quantity", item.quantity))
        if type(quantity) is not int or quantity < 1:
            raise _error(400, "Invalid quantity", param="items[0][quantity]")
        if plan.currency != item.plan.currency:
            raise _error(400, "The price's currency must be the subscription's", param="items[0][price]")
        if plan.id != item.plan.id or quantity != item.quantity:
            change = (plan, quantity)

    before = sub._export()
    kept = (getattr(sub, "_payment_settings", None), getattr(sub, "_default_payment_method", None))
    sub._payment_settings = settings
    if default_method is not _MISSING:  # before the item change, which may charge it
        sub._default_payment_method = default_method or None
    if change is not None:
        try:
            _change_item(sub, change[0], change[1], proration, behaviour, at)
        except UserError:  # error_if_incomplete: nothing changes
            sub._payment_settings, sub._default_payment_method = kept
            raise
    if cancel_at is not _MISSING:
        sub.cancel_at, sub._cancel_requested_at = cancel_at, (now if cancel_at is not None else None)
    if pause is not _MISSING:
        sub._pause_collection = pause or None
    if metadata == "":
        sub.metadata = {}
    elif metadata is not _MISSING:
        for key, value in metadata.items():
            if value == "":
                sub.metadata.pop(key, None)
            else:
                sub.metadata[key] = value
    sub._collection_method, sub._days_until_due = method, (days if method == "send_invoice" else None)
    if data:
        _orig["subscription_update"](sub, **data)
    _emit_updated(sub, before)
    return sub


@classmethod
def _subscription_api_delete(cls, id):
    sub = cls._api_retrieve(id)
    if sub.status == "canceled":
        raise _error(400, f"No such subscription: '{id}'", code="resource_missing")
    now = int(time.time())
    _cancel(sub, now, now)
    return sub


def _event_init(self, type, data):
    _orig["event_init"](self, type, data)
    self.pending_webhooks = sum(1 for hook in _webhooks.values() if hook.events is None or type in hook.events)
    self.request = {"id": None, "idempotency_key": None}


def _tick(now):
    """What Stripe's clock does that localstripe's does not: scheduled cancellations and resumptions."""
    for key, sub in list(store.items()):
        if not key.startswith("subscription:") or sub.status in ("canceled", "incomplete_expired"):
            continue
        if sub.cancel_at is not None and sub.cancel_at <= now:
            _cancel(sub, getattr(sub, "_cancel_requested_at", None) or now, sub.cancel_at)
            continue
        pause = getattr(sub, "_pause_collection", None)
        if pause and pause.get("resumes_at") and pause["resumes_at"] <= now:
            before = sub._export()
            sub._pause_collection = None
            _emit_updated(sub, before)


async def _ticker():
    while True:
        await asyncio.sleep(0.5)
        try:
            _tick(int(time.time()))
        except Exception:  # keep ticking; the objects involved carry no secrets
            _log.exception("localstripe_compat: the scheduled cancellation/resumption failed")


# ---- payment and setup intents ---------------------------------------------------------------------

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
_DECLINED = {"code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined.",
             "type": "card_error"}


def _intent_failed(intent):
    """localstripe's `_report_failure`, answering 402 card_error as Stripe does."""
    schedule_webhook(Event("payment_intent.payment_failed", intent))
    if intent.invoice:
        Invoice._api_retrieve(intent.invoice)._on_payment_failure_now()
    charge = intent.latest_charge
    raise _error(402, charge.failure_message, "card_error", code=charge.failure_code,
                 decline_code="generic_decline", charge=charge.id, payment_intent=intent._export())


async def _confirm_payment_intent(request, id):
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    method_id = data.pop("payment_method", None)
    client_secret = data.pop("client_secret", None)
    future_usage = data.pop("setup_future_usage", None)
    for accepted in ("return_url", "off_session", "use_stripe_sdk", "mandate_data", "error_on_requires_action"):
        data.pop(accepted, None)
    _unknown(data)
    if future_usage not in (None, "", "off_session", "on_session"):
        raise _error(400, "Invalid setup_future_usage", param="setup_future_usage")
    intent = PaymentIntent._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise _error(400, "The client_secret provided does not match the client_secret associated with the "
                          "PaymentIntent.", param="client_secret")
    if intent.status not in _CONFIRMABLE:
        raise _error(400, f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
                     code="payment_intent_unexpected_state")
    if method_id is not None:
        method = _payment_method(method_id, "payment_method")
        if method.customer is not None and intent.customer and method.customer != intent.customer:
            raise _error(400, f"The payment method {method.id} belongs to another customer.",
                         param="payment_method")
        intent.payment_method = method.id
    elif intent.payment_method is None:
        raise _error(400, "You cannot confirm this PaymentIntent because it's missing a payment method.",
                     code="payment_intent_unexpected_state", param="payment_method")
    intent.latest_charge = None  # a new attempt (localstripe keeps the failed charge in its store)
    intent._confirm(on_failure_now=lambda: _intent_failed(intent))
    if future_usage and intent.customer and intent.status in ("succeeded", "processing", "requires_capture"):
        method = store.get("payment_method:" + intent.payment_method)
        if method is not None and method.customer is None:
            method.customer = intent.customer
    return server.json_response(intent._export(expand=expand))


def _setup_intent_init(self, customer=None, description=None, **kwargs):
    if customer is not None:
        _customer_or_400(customer)
    if description is not None and type(description) is not str:
        raise _error(400, "Invalid description", param="description")
    _orig["setup_intent_init"](self, customer=customer, **kwargs)
    self.description, self.last_setup_error, self.cancellation_reason = description, None, None


async def _confirm_setup_intent(request, id):
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    method_id = data.pop("payment_method", None)
    method_data = data.pop("payment_method_data", None)
    client_secret = data.pop("client_secret", None)
    for accepted in ("return_url", "use_stripe_sdk", "mandate_data"):
        data.pop(accepted, None)
    _unknown(data)
    intent = SetupIntent._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise _error(400, "The client_secret provided does not match the client_secret associated with the "
                          "SetupIntent.", param="client_secret")
    # Confirming a requires_action one again, without a method, completes its 3-D Secure (localstripe's
    # Stripe.js shim does so when "Complete authentication" is clicked).
    authenticated = intent.status == "requires_action" and method_id is None and method_data is None
    if intent.status not in _CONFIRMABLE and not authenticated:
        raise _error(400, f"You cannot confirm this SetupIntent because it has a status of {intent.status}.",
                     code="setup_intent_unexpected_state")
    if method_id is not None:
        method = _payment_method(method_id, "payment_method")
    elif method_data is not None:
        if type(method_data) is not dict:
            raise _error(400, "Invalid payment_method_data", param="payment_method_data")
        method = PaymentMethod(**method_data)
    elif intent.payment_method is not None:
        method = PaymentMethod._api_retrieve(intent.payment_method)
    else:
        raise _error(400, "You cannot confirm this SetupIntent because it's missing a payment method.",
                     code="setup_intent_unexpected_state", param="payment_method")
    if method.customer is not None and intent.customer and method.customer != intent.customer:
        raise _error(400, f"The payment method {method.id} belongs to another customer.", param="payment_method")
    if method._attaching_is_declined():
        intent.payment_method, intent.status, intent.next_action = None, "requires_payment_method", None
        intent.last_setup_error = dict(_DECLINED)
        schedule_webhook(Event("setup_intent.setup_failed", intent))
        raise _error(402, _DECLINED["message"], "card_error", code=_DECLINED["code"],
                     decline_code=_DECLINED["decline_code"], setup_intent=intent._export())
    intent.payment_method, intent.last_setup_error = method.id, None
    if method._requires_authentication() and not authenticated:
        intent.status = "requires_action"
        intent.next_action = {"type": "use_stripe_sdk",
                              "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""}}
        schedule_webhook(Event("setup_intent.requires_action", intent))
    else:
        intent.status, intent.next_action = "succeeded", None
        if intent.customer and method.customer is None:
            method.customer = intent.customer
        schedule_webhook(Event("setup_intent.succeeded", intent))
    return server.json_response(intent._export(expand=expand))


# ---- billing portal -------------------------------------------------------------------------------

_PORTAL = "billing_portal.session:"  # store key prefix; the sessions are plain dicts


async def _create_portal_session(request):
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    customer = _customer_or_400(data.pop("customer", None))
    return_url = data.pop("return_url", None)
    locale, configuration = data.pop("locale", None), data.pop("configuration", None)
    on_behalf_of = data.pop("on_behalf_of", None)
    data.pop("flow_data", None)
    _unknown(data)
    if return_url is not None and (type(return_url) is not str
                                   or not re.match(r"https?://[^\s]+$", return_url)):
        raise _error(400, "Not a valid URL", param="return_url")
    if expand:
        raise _error(400, "This object has nothing to expand", param="expand")
    session_id = "bps_" + random_id(24)
    session = {"id": session_id, "object": "billing_portal.session", "configuration": configuration or "bpc_local",
               "created": int(time.time()), "customer": customer.id, "flow": None, "livemode": False,
               "locale": locale, "on_behalf_of": on_behalf_of, "return_url": return_url,
               "url": f"{request.scheme}://{request.host}/billing_portal/sessions/{session_id}"}
    store[_PORTAL + session_id] = session
    return server.json_response(session)


@web.middleware
async def portal_page_middleware(request, handler):
    """The page a portal session's `url` shows, without an API key (as Stripe's), before localstripe's auth."""
    match = re.fullmatch(r"/billing_portal/sessions/(bps_[A-Za-z0-9]+)", request.path)
    if match is None or request.method != "GET":
        return await handler(request)
    session = store.get(_PORTAL + match.group(1))
    if session is None:
        return web.Response(status=404, text="No such billing portal session\n")
    back = session["return_url"]
    link = f'<p><a href="{html.escape(back)}">Return</a></p>' if back else ""
    return web.Response(content_type="text/html", text=(
        "<!doctype html><title>Billing portal (localstripe)</title>"
        f"<h1>Billing portal</h1><p>Customer {html.escape(session['customer'])}. This local stand-in of "
        f"Stripe's customer portal changes nothing.</p>{link}\n"))


# ---- Stripe.js in the browser -----------------------------------------------------------------------

_STRIPE_JS = Path(__file__).with_name("stripe_js_v3.js")
_BROWSER_ROUTES = [
    (re.compile(r"/v1/payment_methods"), None),
    (re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/confirm"), _confirm_payment_intent),
    (re.compile(r"/v1/setup_intents/(?P<id>[^/]+)/confirm"), _confirm_setup_intent),
]


def _publishable(key):
    return type(key) is str and key.startswith("pk_") and len(key) > 5


@web.middleware
async def stripe_js_middleware(request, handler):
    """Our own Stripe.js at `/js.stripe.com/v3/` (in place of localstripe's, which ignores the typed
    card), and the calls it makes with the publishable key as Stripe.js does (`key=pk_...` in the form,
    no Authorization): creating a card payment method, and confirming a PaymentIntent or SetupIntent
    with its client_secret (required here, as Stripe requires it of a publishable key). GET of an
    intent with `key` and its `client_secret` answers it. Ahead of localstripe's API-key check."""
    if request.method == "GET" and request.path in ("/js.stripe.com/v3/", "/js.stripe.com/v3"):
        return web.Response(body=_STRIPE_JS.read_bytes(), content_type="text/javascript", charset="utf-8",
                            headers={"Cache-Control": "no-store"})
    if "Authorization" in request.headers:
        return await handler(request)
    if request.method == "GET":
        match = re.fullmatch(r"/v1/(payment_intent|setup_intent)s/(?P<id>[^/]+)", request.path)
        key, secret = request.query.get("key"), request.query.get("client_secret")
        if match is None or not _publishable(key):
            return await handler(request)
        cls = PaymentIntent if match.group(1) == "payment_intent" else SetupIntent
        intent = cls._api_retrieve(match.group("id"))
        if secret != intent.client_secret:
            raise _error(400, "The client_secret does not match.", param="client_secret")
        return server.json_response(intent._export())
    if request.method != "POST":
        return await handler(request)
    for pattern, route in _BROWSER_ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        data = await server.get_post_data(request, remove_auth=False) or {}
        if not _publishable(data.get("key")):
            return await handler(request)
        if route is None:
            data = await server.get_post_data(request) or {}
            data.pop("expand", None)
            if data.get("type") != "card":
                raise _error(400, "Only card payment methods can be made with a publishable key.", param="type")
            return server.json_response(PaymentMethod._api_create(**data)._export())
        if not data.get("client_secret"):
            raise _error(400, "A publishable key confirms only with the intent's client_secret.", param="client_secret")
        return await route(request, **match.groupdict())
    return await handler(request)


# ---- middlewares ----------------------------------------------------------------------------------

_answers = {}  # Idempotency-Key -> ((method, path, parameters), status, body, content type, charset)
_locks = {}


@web.middleware
async def idempotency_middleware(request, handler):
    key = request.headers.get("Idempotency-Key")
    if not key or request.method not in ("POST", "DELETE") or not request.path.startswith("/v1/"):
        return await handler(request)
    raw = await request.read()
    if request.content_type == "application/x-www-form-urlencoded":
        parameters = tuple(sorted(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)))
    else:
        parameters = raw
    fingerprint = (request.method, request.path, parameters)
    async with _locks.setdefault(key, asyncio.Lock()):
        seen = _answers.get(key)
        if seen is not None:
            if seen[0] != fingerprint:
                return server.json_response({"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same parameters they "
                               f"were first used with. Try using a key other than '{key}' if you meant to "
                               "execute a different request."}}, status=400)
            return web.Response(body=seen[2], status=seen[1], content_type=seen[3], charset=seen[4],
                                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
        try:
            response = await handler(request)
        except UserError as err:
            response = err.to_response()
        if type(response) is web.Response and (response.status < 400 or response.status == 402) \
                and isinstance(response.body, bytes):
            _answers[key] = (fingerprint, response.status, response.body, response.content_type, response.charset)
        return response


async def _list_invoice_payments(request):
    """`GET /v1/invoice_payments?invoice=`: the invoice's PaymentIntent as Stripe lists it, none for an
    invoice paid outside Stripe (localstripe has no such list)."""
    invoice_id = request.query.get("invoice")
    data = []
    if invoice_id:
        try:
            inv = Invoice._api_retrieve(invoice_id)
        except UserError:
            inv = None
        intent = getattr(inv, "payment_intent", None) if inv is not None else None
        intent_id = getattr(intent, "id", intent)
        if intent_id and getattr(inv, "status", None) == "paid":
            data.append({"object": "invoice_payment", "invoice": invoice_id, "status": "paid",
                         "payment": {"type": "payment_intent", "payment_intent": intent_id}})
    return server.json_response({"object": "list", "data": data, "has_more": False,
                                 "url": "/v1/invoice_payments"})


_ROUTES = [
    ("GET", re.compile(r"/v1/invoice_payments"), _list_invoice_payments),
    ("POST", re.compile(r"/v1/prices"), _create_price),
    ("GET", re.compile(r"/v1/prices/(?P<id>[^/]+)"), _get_price),
    ("POST", re.compile(r"/v1/invoices/(?P<id>[^/]+)/pay"), _pay_invoice),
    ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/confirm"), _confirm_payment_intent),
    ("POST", re.compile(r"/v1/setup_intents/(?P<id>[^/]+)/confirm"), _confirm_setup_intent),
    ("POST", re.compile(r"/v1/billing_portal/sessions"), _create_portal_session),
]


@web.middleware
async def routes_middleware(request, handler):
    for method, pattern, route in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match and request.method == method:
            return await route(request, **match.groupdict())
    return await handler(request)


# ---- installation ---------------------------------------------------------------------------------

def _patch(name, owner, attribute, replacement):
    _orig[name] = getattr(owner, attribute)
    setattr(owner, attribute, replacement)


def install(app):
    """Patches localstripe's classes and adds the middlewares and the ticker to `app` (before it runs)."""
    if not _orig:
        unflatten = server.unflatten_data
        _patch("unflatten", server, "unflatten_data", lambda multidict: _prices_to_plans(unflatten(multidict)))
        _patch("subscription_init", Subscription, "__init__", _subscription_init)
        _patch("subscription_create_invoice", Subscription, "_create_invoice", _subscription_create_invoice)
        _patch("subscription_export", Subscription, "_export", _subscription_export)
        _orig["subscription_update"] = Subscription._update
        Subscription._api_update = _subscription_api_update
        Subscription._api_delete = _subscription_api_delete
        _patch("item_export", SubscriptionItem, "_export", _item_export)
        _patch("invoice_export", Invoice, "_export", _invoice_export)
        _orig["invoice_status"] = Invoice.status.fget
        Invoice.status = property(_invoice_status)
        _patch("invoice_on_payment_success", Invoice, "_on_payment_success", _invoice_on_payment_success)
        _patch("line_export", InvoiceLineItem, "_export", _line_export)
        _patch("event_init", Event, "__init__", _event_init)
        _patch("invoice_api_pay", Invoice, "_api_pay_invoice", _invoice_api_pay)
        _patch("payment_method_init", PaymentMethod, "__init__", _payment_method_init)
        _patch("payment_method_test_article", PaymentMethod, "_try_get_canonical_test_article",
               _payment_method_test_article)
        _patch("payment_method_charging_is_declined", PaymentMethod, "_charging_is_declined", _charging_is_declined)
        _patch("customer_create", Customer, "_api_create", _customer_api_create)
        _patch("customer_update", Customer, "_api_update", _customer_api_update)
        _patch("setup_intent_init", SetupIntent, "__init__", _setup_intent_init)

    position = list(app.middlewares).index(server.auth_middleware)
    app.middlewares.insert(position, portal_page_middleware)
    app.middlewares.insert(position + 1, stripe_js_middleware)
    position = list(app.middlewares).index(server.auth_middleware) + 1
    app.middlewares.insert(position, idempotency_middleware)
    app.middlewares.insert(position + 1, routes_middleware)

    async def start_ticker(app):
        _orig["ticker"] = asyncio.ensure_future(_ticker())

    async def stop_ticker(app):
        task = _orig.pop("ticker", None)
        if task is not None:
            task.cancel()

    app.on_startup.append(start_ticker)
    app.on_cleanup.append(stop_ticker)
