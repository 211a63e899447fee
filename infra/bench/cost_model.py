#!/usr/bin/env python3
"""A monthly AWS cost estimate of the stack for a number of partners, from measured figures.

`make bench` (bench.py) imports this module and calls `markdown(measured)` or
`monthly_bill(partners, measured)`; run alone, `cost_model.py MEASURED.json` prints the same markdown
and `cost_model.py --self-check` checks the model.

Prices: `PRICES` holds AWS on-demand LIST prices for us-east-1 and arm64 Lambda, as written on
`PRICES_DATE`. They are not fetched; re-check them on the pricing pages named beside each before
using a figure. The AWS free tier is ignored throughout (every line is billed from its first unit),
and so are taxes, support, data transfer and Stripe's own fees. This is an estimate, not a bill.

`Measured`, as JSON (every key but `lambda_ms` optional):

    {
      "lambda_ms": {"admin-api": 12, "partner-portal": 9, "stripe-webhook": 15, "stripe-reconcile": 40,
                    "expiry-sweep": 200, "outbox-relay": 8, "email-sender": 60},
      "memory_mb": {"admin-api": 256, ...},
      "sweep_ms_per_due": 20,
      "dynamodb": {"tier_patch": {"GetItem": 1, "TransactWriteItems": 1, "transact_items": 4}, ...}
    }

- `lambda_ms`: warm billed duration of one invocation per function (ms; rounded up to 1 ms as Lambda
  bills). For `expiry-sweep` it is the fixed part of one run (default 200 ms); each due term adds
  `sweep_ms_per_due` (default 20 ms). The other six functions are required.
- `memory_mb`: MemorySize per function; by default read from template.yaml.
- `dynamodb`: requests per operation (see `OPERATIONS` for what each is counted against), by kind:
  GetItem and Query (1 RRU: strongly consistent, <= 4 KB), EventualGetItem (0.5 RRU), TransactGetItems
  (2 RRU per item read), PutItem/UpdateItem/DeleteItem (1 WRU, <= 1 KB), TransactWriteItems (2 WRU per
  item per KB: one partner item plus `transact_items` - 1 small items), or raw RRU / WRU. Operations
  left out keep the defaults of `DEFAULT_DYNAMODB` (the markdown marks them "assumed").
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import sys
from dataclasses import dataclass, field

import yaml

TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "template.yaml")
PRICES_DATE = "2026-12-05"
M = 1_000_000


@dataclass(frozen=True)
class Prices:
    """USD per one unit, us-east-1, on-demand list prices as written on PRICES_DATE."""
    lambda_gb_second: float = 0.0000133334   # "AWS Lambda pricing" (Arm, first 7.5 billion GB-s)
    lambda_request: float = 0.20 / M          # "AWS Lambda pricing"
    api_request: float = 1.00 / M             # "Amazon API Gateway pricing" (HTTP APIs, first 300M)
    dynamodb_wru: float = 0.625 / M           # "Amazon DynamoDB pricing" (on-demand capacity)
    dynamodb_rru: float = 0.125 / M           # "Amazon DynamoDB pricing" (on-demand capacity)
    dynamodb_gb_month: float = 0.25           # "Amazon DynamoDB pricing" (Standard table storage)
    dynamodb_pitr_gb_month: float = 0.20      # "Amazon DynamoDB pricing" (continuous backups)
    backup_gb_month: float = 0.10             # "AWS Backup pricing" (DynamoDB, warm storage)
    dynamodb_stream_read: float = 0.0         # "Amazon DynamoDB pricing": stream reads by Lambda triggers are free
    eventbridge_event: float = 1.00 / M       # "Amazon EventBridge pricing" (custom events, per 64 KB chunk)
    ses_email: float = 0.10 / 1_000           # "Amazon SES pricing" (outbound email)
    secret_month: float = 0.40                # "AWS Secrets Manager pricing"
    secret_call: float = 0.05 / 10_000        # "AWS Secrets Manager pricing"
    kms_key_month: float = 1.00               # "AWS Key Management Service pricing" (customer managed key)
    kms_request: float = 0.03 / 10_000        # "AWS Key Management Service pricing"
    sqs_request: float = 0.40 / M             # "Amazon SQS pricing" (standard queue)
    logs_gb: float = 0.50                     # "Amazon CloudWatch pricing" (Logs ingestion, standard)
    metric_month: float = 0.30                # "Amazon CloudWatch pricing" (custom metrics, first 10k)
    alarm_month: float = 0.10                 # "Amazon CloudWatch pricing" (standard resolution alarm)


PRICES = Prices()
FUNCTIONS = ("admin-api", "partner-portal", "stripe-webhook", "stripe-reconcile", "expiry-sweep",
             "outbox-relay", "email-sender")
HTTP_FUNCTIONS = ("admin-api", "partner-portal", "stripe-webhook")


@dataclass(frozen=True)
class Workload:
    """The usage assumed per month (30 days); every figure is an assumption, not a measurement."""
    free_share: float = 0.70                  # partners on the free tier
    gold_share: float = 0.20                  # Power Gold (paid)
    platinum_share: float = 0.10              # Power Platinum (paid)
    tier_changes_per_partner_year: float = 2  # admin tier PATCHes via admin-api, every partner
    invoices_per_paid_year: float = 12        # one paid invoice a month per paid partner
    webhooks_per_invoice: float = 4           # invoice.created/.finalized/.paid/.payment_succeeded
    sweep_runs_per_month: int = 30            # the daily expiry sweep
    due_stages_per_paid_year: float = 3       # 30-day notice, 7-day notice, renewal/expiry
    notice_stages_per_paid_year: float = 2    # of those, the two notices ("reminder" operation)
    admin_reads_base_per_day: float = 50      # dashboard/list/partner views: 50 + partners / 100
    admin_reads_per_partner_day: float = 1 / 100
    # The dashboard's tab counts (usecases::dashboard::tab_counts) read the counters the writes keep
    # (issue 25): the 31 ending-day buckets, every history month, the seats and the tabs, each counter
    # item split over `counter_shards` items, in two strongly consistent queries (1 RRU per 4 KB each).
    dashboard_share_of_admin_reads: float = 0.3
    history_months_counted: int = 12          # every month since 2025-10 is counted; a year assumed
    expiring_share_of_paid: float = 30 / 365  # the expiring tab: terms ending within 30 days
    counter_shards: int = 8                   # domain::counters::SHARDS
    counter_item_kb: float = 0.25             # one counter item (a day's or a month's fields)
    counter_items_per_write: float = 4        # counter items a state change moves (seats, tab, ending
                                              # day, history month, business day: 3 to 5)
    portal_visits_per_paid_month: float = 2
    portal_requests_per_visit: float = 3
    free_visitor_share: float = 0.05          # free partners opening the portal once a month
    portal_upgrades_per_free_year: float = 0.01
    events_per_state_change: float = 2        # e.g. TierChanged + a specific one
    reconcile_runs_per_month: int = 720       # hourly stripe-reconcile
    secret_refresh_minutes: float = 15        # each warm container re-reads its secrets
    partners_per_http_container: int = 20_000  # warm containers = 1 + partners // this (HTTP functions)
    cold_starts_per_container_hour: float = 1  # each decrypts its environment with KMS
    # The secrets of template.yaml (the admin signing key; one Stripe secret holding every function's
    # restricted key and the webhook secret) and how many each function reads.
    secret_count: int = 2
    secrets_per_function: dict = field(default_factory=lambda: {
        "admin-api": 2, "partner-portal": 2, "stripe-reconcile": 1, "stripe-webhook": 1})
    partner_item_kb: float = 4                # request units of a partner item (read or write)
    small_item_kb: float = 1                  # history/audit/outbox/email-log/invoice item
    partner_storage_kb: float = 6             # stored per partner (partner item and its fixed items)
    item_storage_kb: float = 1                # each history/audit/outbox/invoice/email-log item, one year kept
    backup_copies: int = 35                   # daily AWS Backup kept 35 days; DynamoDB backups are full copies
    log_kb_per_invocation: float = 1          # per Lambda invocation and per API access-log line
    emf_metrics: int = 15                     # business metrics from EMF log lines (shared/src/emf.rs)
    alarms: int | None = None                 # None: count AWS::CloudWatch::Alarm in template.yaml
    sqs_requests_per_email: float = 3         # the email queue: EventBridge's send, Lambda's receive
                                              # and delete (batches of one at worst)


# What each DynamoDB operation is counted against (per month), and its default requests.
OPERATIONS = {
    "tier_patch": "admin tier changes", "webhook_event": "webhook deliveries", "reminder": "notices",
    "sweep_per_due": "due terms", "portal_upgrade": "portal upgrades", "reconcile_run": "reconcile runs",
    "admin_read": "admin reads", "portal_read": "portal requests", "email_send": "emails",
    "relay_batch": "state changes"}
SINGULAR = {"admin tier changes": "admin tier change", "webhook deliveries": "webhook delivery",
            "notices": "notice", "due terms": "due term", "portal upgrades": "portal upgrade",
            "reconcile runs": "reconcile run", "admin reads": "admin read", "portal requests": "portal request",
            "emails": "email", "state changes": "state change"}
DEFAULT_DYNAMODB = {
    "tier_patch": {"GetItem": 1, "TransactWriteItems": 1}, "webhook_event": {"GetItem": 2, "TransactWriteItems": 1},
    "reminder": {"TransactWriteItems": 1}, "sweep_per_due": {"Query": 0.01, "GetItem": 0.4, "TransactWriteItems": 1},
    "portal_upgrade": {"GetItem": 1, "TransactWriteItems": 1}, "reconcile_run": {"Query": 1},
    "admin_read": {"Query": 1}, "portal_read": {"GetItem": 1}, "email_send": {"GetItem": 1, "UpdateItem": 2},
    "relay_batch": {}}


@dataclass
class Measured:
    lambda_ms: dict                           # function -> warm billed ms per invocation
    dynamodb: dict = field(default_factory=dict)  # operation -> {kind: requests, "transact_items": n}
    memory_mb: dict | None = None             # function -> MB; None: from template.yaml
    sweep_ms_per_due: float = 20.0

    @classmethod
    def from_json(cls, data: dict) -> "Measured":
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass(frozen=True)
class Row:
    service: str
    quantity: float
    unit: str
    price: float                              # USD per unit (0 for the total row)
    usd: float


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation tags (!Ref, !Sub, !GetAtt, ...) as plain values."""


def _cfn_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: str = TEMPLATE) -> dict:
    with open(path) as f:
        return yaml.load(f, Loader=_CfnLoader)


def memory_from_template(path: str = TEMPLATE) -> dict[str, int]:
    """MemorySize (MB) per function name (FunctionName without the stack prefix), Globals otherwise."""
    template = load_template(path)
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    memory = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.get("Properties", {})
            name = str(props.get("FunctionName", logical_id)).replace("${AWS::StackName}-", "")
            memory[name] = int(props.get("MemorySize", default))
    return memory


def alarms_from_template(path: str = TEMPLATE) -> int:
    return sum(r.get("Type") == "AWS::CloudWatch::Alarm" for r in load_template(path)["Resources"].values())


def request_units(kinds: dict, w: Workload) -> tuple[float, float]:
    """(RRU, WRU) of one operation made of `kinds` requests."""
    rru = wru = 0.0
    partner_reads = math.ceil(w.partner_item_kb / 4)
    tx_kb = w.partner_item_kb + (kinds.get("transact_items", 4) - 1) * w.small_item_kb
    per_request = {"GetItem": (partner_reads, 0), "Query": (partner_reads, 0), "EventualGetItem": (0.5, 0),
                   "TransactGetItems": (2 * partner_reads, 0), "PutItem": (0, w.small_item_kb),
                   "UpdateItem": (0, w.small_item_kb), "DeleteItem": (0, w.small_item_kb),
                   "TransactWriteItems": (0, 2 * tx_kb), "RRU": (1, 0), "WRU": (0, 1)}
    for kind, count in kinds.items():
        if kind == "transact_items":
            continue
        if kind not in per_request:
            raise ValueError(f"unknown DynamoDB request kind {kind!r}")
        rru += count * per_request[kind][0]
        wru += count * per_request[kind][1]
    return rru, wru


def volumes(partners: int, w: Workload) -> dict[str, float]:
    """Monthly counts of everything the bill is made of."""
    paid = partners * (w.gold_share + w.platinum_share)
    free = partners * w.free_share
    v = {"tier changes": partners * w.tier_changes_per_partner_year / 12,
         "paid invoices": paid * w.invoices_per_paid_year / 12,
         "due terms": paid * w.due_stages_per_paid_year / 12,
         "notices": paid * w.notice_stages_per_paid_year / 12,
         "portal upgrades": free * w.portal_upgrades_per_free_year / 12,
         "admin reads": 30 * (w.admin_reads_base_per_day + partners * w.admin_reads_per_partner_day),
         "portal requests": (paid * w.portal_visits_per_paid_month + free * w.free_visitor_share)
         * w.portal_requests_per_visit,
         "reconcile runs": w.reconcile_runs_per_month, "sweep runs": w.sweep_runs_per_month}
    v["admin tier changes"] = v["tier changes"]
    v["webhook deliveries"] = v["paid invoices"] * w.webhooks_per_invoice
    v["state changes"] = v["tier changes"] + v["portal upgrades"] + v["paid invoices"] + v["due terms"]
    v["emails"] = v["paid invoices"] + v["due terms"] + v["tier changes"] + v["portal upgrades"]
    v["invocations"] = {
        "admin-api": v["tier changes"] + v["admin reads"],
        "partner-portal": v["portal requests"] + v["portal upgrades"],
        "stripe-webhook": v["webhook deliveries"], "stripe-reconcile": v["reconcile runs"],
        "expiry-sweep": v["sweep runs"], "outbox-relay": v["state changes"], "email-sender": v["emails"]}
    return v


def dashboard_count_rru(partners: int, v: dict, w: Workload) -> float:
    """RRU of one dashboard view's tab counts, from the counters: two strongly consistent queries (1 RRU
    per 4 KB, rounded up per query), the 31 ending days' items and the months', seats' and tabs' items,
    each in `counter_shards` shards. The same for any number of partners; it grows by a few items a
    month of history."""
    ending = 31 * w.counter_shards * w.counter_item_kb
    months = (w.history_months_counted + 2) * w.counter_shards * w.counter_item_kb
    return math.ceil(ending / 4) + math.ceil(months / 4)


def monthly_bill(partners: int, measured: Measured, workload: Workload = Workload()) -> list[Row]:
    """One row per service line for a 30-day month, then the total row (USD, free tier ignored)."""
    w, p = workload, PRICES
    v = volumes(partners, w)
    calls = v["invocations"]
    memory = measured.memory_mb or memory_from_template()
    missing = [f for f in FUNCTIONS if f not in measured.lambda_ms and f != "expiry-sweep"]
    if missing:
        raise ValueError(f"lambda_ms has no figure for {', '.join(missing)}")
    gb_seconds = 0.0
    for name in FUNCTIONS:
        if name == "expiry-sweep":
            per_run = measured.lambda_ms.get(name, 200) + measured.sweep_ms_per_due * v["due terms"] / v["sweep runs"]
            billed_ms = math.ceil(round(per_run, 6))
        else:
            billed_ms = math.ceil(round(measured.lambda_ms[name], 6))
        gb_seconds += calls[name] * billed_ms / 1000 * memory[name] / 1024
    rru = wru = 0.0
    for op, against in OPERATIONS.items():
        r, u = request_units(measured.dynamodb.get(op, DEFAULT_DYNAMODB[op]), w)
        rru, wru = rru + v[against] * r, wru + v[against] * u
    dashboard_rru = v["admin reads"] * w.dashboard_share_of_admin_reads * dashboard_count_rru(partners, v, w)
    # Each counter item a transaction moves is one more small item in it (2 WRU, <= 1 KB), for every
    # state change and every paid invoice.
    counter_wru = 2 * (v["state changes"] * w.counter_items_per_write + v["paid invoices"])
    # Items a state change adds (history, audit, outbox), plus invoices and email-log items, for a year.
    items_per_tx = measured.dynamodb.get("tier_patch", {}).get("transact_items", 4) - 1
    year_items = 12 * (v["state changes"] * items_per_tx + v["paid invoices"] + v["emails"])
    table_gb = (partners * w.partner_storage_kb + year_items * w.item_storage_kb) / 1024 ** 2
    containers = {f: 1 + partners // w.partners_per_http_container if f in HTTP_FUNCTIONS else 1 for f in FUNCTIONS}
    reads_per_container = 30 * 24 * 60 / w.secret_refresh_minutes  # 2,880; but never more than invocations
    secret_calls = sum(min(calls[f], containers[f] * reads_per_container) * n
                       for f, n in w.secrets_per_function.items())
    cold_starts = sum(min(calls[f], containers[f] * 720 * w.cold_starts_per_container_hour) for f in FUNCTIONS)
    invocations = sum(calls.values())
    api_requests = calls["admin-api"] + calls["partner-portal"] + calls["stripe-webhook"]
    log_gb = (invocations + api_requests) * w.log_kb_per_invocation / 1024 ** 2
    alarms = w.alarms if w.alarms is not None else alarms_from_template()
    lines = [
        ("Lambda requests", invocations, "requests", p.lambda_request),
        ("Lambda duration (arm64)", gb_seconds, "GB-s", p.lambda_gb_second),
        ("API Gateway HTTP API", api_requests, "requests", p.api_request),
        ("DynamoDB reads", rru, "RRU", p.dynamodb_rru),
        ("DynamoDB reads (dashboard tab counts, from the counters)", dashboard_rru, "RRU", p.dynamodb_rru),
        ("DynamoDB writes", wru, "WRU", p.dynamodb_wru),
        ("DynamoDB writes (counters, in the same transactions)", counter_wru, "WRU", p.dynamodb_wru),
        ("DynamoDB storage", table_gb, "GB-month", p.dynamodb_gb_month),
        ("DynamoDB point-in-time recovery", table_gb, "GB-month", p.dynamodb_pitr_gb_month),
        ("AWS Backup (daily, 35 days)", table_gb * w.backup_copies, "GB-month", p.backup_gb_month),
        ("DynamoDB Streams (Lambda reads, free)", v["state changes"], "batches", p.dynamodb_stream_read),
        ("EventBridge custom events", v["state changes"] * w.events_per_state_change, "events", p.eventbridge_event),
        ("SES outbound email", v["emails"], "emails", p.ses_email),
        ("Secrets Manager secrets", w.secret_count, "secrets", p.secret_month),
        ("Secrets Manager API calls", secret_calls, "calls", p.secret_call),
        ("KMS customer managed key", 1, "keys", p.kms_key_month),
        ("KMS requests (cold starts)", cold_starts, "requests", p.kms_request),
        ("SQS (email queue)", v["emails"] * w.sqs_requests_per_email, "requests", p.sqs_request),
        ("CloudWatch Logs ingestion", log_gb, "GB", p.logs_gb),
        ("CloudWatch custom metrics (EMF)", w.emf_metrics, "metrics", p.metric_month),
        ("CloudWatch alarms", alarms, "alarms", p.alarm_month),
    ]
    rows = [Row(service, qty, unit, price, qty * price) for service, qty, unit, price in lines]
    return rows + [Row("Total", 0, "", 0, sum(r.usd for r in rows))]


def _qty(q: float) -> str:
    return f"{q:,.0f}" if q >= 100 or q == int(q) else f"{q:,.3g}"


def markdown(measured: Measured, sizes=(1_000, 10_000, 100_000), workload: Workload = Workload()) -> str:
    bills = [monthly_bill(n, measured, workload) for n in sizes]
    out = ["| line | unit | " + " | ".join(f"{n:,} partners" for n in sizes) + " |",
           "|---|---|" + "---|" * len(sizes)]
    for i, row in enumerate(bills[0]):
        cells = [f"**${b[i].usd:,.2f}**" if row.service == "Total" else f"${b[i].usd:,.2f} ({_qty(b[i].quantity)})"
                 for b in bills]
        out.append(f"| {'**Total**' if row.service == 'Total' else row.service} | {row.unit} | "
                   + " | ".join(cells) + " |")
    w = workload
    out += ["", f"Monthly (30 days), us-east-1, on-demand list prices as written on {PRICES_DATE} (re-check "
            "before use); the AWS free tier, taxes and data transfer are ignored. Assumed: partners "
            f"{w.free_share:.0%} free, {w.gold_share:.0%} Power Gold, {w.platinum_share:.0%} Power Platinum; "
            f"{w.tier_changes_per_partner_year:g} admin tier changes per partner a year; "
            f"{w.invoices_per_paid_year:g} invoices per paid partner a year, {w.webhooks_per_invoice:g} webhooks "
            f"each; {w.due_stages_per_paid_year:g} due stages per paid partner a year, daily sweep; admin reads "
            f"{w.admin_reads_base_per_day:g} + partners/{1 / w.admin_reads_per_partner_day:g} a day, "
            f"{w.dashboard_share_of_admin_reads:.0%} of them dashboard views whose tab counts read the "
            f"counters (31 ending days and {w.history_months_counted} months, {w.counter_shards} shards each); "
            f"{w.counter_items_per_write:g} counter items moved per state change; portal "
            f"{w.portal_visits_per_paid_month:g} visits per paid partner a month and "
            f"{w.free_visitor_share:.0%} of free partners once, {w.portal_requests_per_visit:g} requests a visit; "
            f"{w.portal_upgrades_per_free_year:.0%} of free partners upgrade a year; one email per invoice, "
            f"due stage and tier change; {w.events_per_state_change:g} events per state change; hourly "
            f"reconcile; one relay invocation per state change; secrets re-read every "
            f"{w.secret_refresh_minutes:g} min per warm container; one KMS decrypt per cold start, one cold "
            f"start per container an hour; {w.log_kb_per_invocation:g} KB of log per invocation; a year of "
            f"history kept, {w.backup_copies} full daily backups. Lambda: warm billed ms "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(measured.lambda_ms.items()))
            + f"; the sweep adds {measured.sweep_ms_per_due:g} ms per due term.",
            "", "DynamoDB requests per operation (RRU/WRU each):", ""]
    for op, against in OPERATIONS.items():
        kinds = measured.dynamodb.get(op, DEFAULT_DYNAMODB[op])
        rru, wru = request_units(kinds, workload)
        text = ", ".join(f"{k} {n:g}" for k, n in kinds.items()) or "none"
        note = "" if op in measured.dynamodb else " (assumed)"
        out.append(f"- `{op}` per {SINGULAR.get(against, against)}: {text} -> "
                   f"{rru:g} RRU, {wru:g} WRU{note}")
    return "\n".join(out) + "\n"


def self_check() -> None:
    measured = Measured(lambda_ms={f: 10 + i for i, f in enumerate(FUNCTIONS)})
    sizes = (0, 100, 1_000, 10_000, 100_000, 1_000_000)
    bills = [monthly_bill(n, measured) for n in sizes]
    for smaller, larger in zip(bills, bills[1:]):
        assert all(a.usd <= b.usd + 1e-12 for a, b in zip(smaller, larger)), "a cost fell as partners grew"
        assert smaller[-1].usd < larger[-1].usd, "the total did not grow with partners"
    for bill in bills:
        assert bill[-1].service == "Total" and math.isclose(bill[-1].usd, sum(r.usd for r in bill[:-1]))
        # No free tier: every line is its quantity times its list price, from the first unit.
        assert all(math.isclose(r.usd, r.quantity * r.price, abs_tol=1e-15) for r in bill[:-1])
        assert all(r.usd > 0 for r in bill[:-1] if r.quantity > 0 and r.price > 0)
    small = monthly_bill(1, measured)
    assert small[0].usd == small[0].quantity * PRICES.lambda_request > 0, "free tier applied to requests"
    doubled = Measured(lambda_ms={f: 2 * ms for f, ms in measured.lambda_ms.items()},
                       sweep_ms_per_due=2 * measured.sweep_ms_per_due)
    for n in sizes[1:]:
        once, twice = monthly_bill(n, measured)[1], monthly_bill(n, doubled)[1]
        assert once.unit == "GB-s" and math.isclose(twice.usd, 2 * once.usd), "GB-s not proportional to ms"
    assert datetime.date.fromisoformat(PRICES_DATE) and PRICES_DATE in markdown(measured)
    memory = memory_from_template()
    assert set(FUNCTIONS) <= set(memory) and memory["admin-api"] == 256 and memory["expiry-sweep"] == 512
    assert alarms_from_template() > 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-check"]:
        self_check()
        print("cost model self-check: ok")
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: cost_model.py MEASURED.json | --self-check", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        print(markdown(Measured.from_json(json.load(f))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
