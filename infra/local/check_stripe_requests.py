#!/usr/bin/env python3
"""Our Stripe requests, checked against Stripe's own description of its API.

localstripe and our compatibility layer accept what we taught them to accept, so they cannot say when
a request is wrong for real Stripe. This checker reads the requests our Stripe client builds, as the
Rust test `functions/admin-api/tests/stripe_conformance.rs` recorded them at the request stub
(method, path, headers, decoded form and query), and checks each one against the typed parameters of
Stripe's official Python library (`stripe` on PyPI, pinned in infra/local/requirements.txt), whose
`stripe.params` TypedDicts are generated from Stripe's OpenAPI description:

- the request's (method, path) is one of ROUTES below (explicit; an unmapped request fails), and
  Stripe's own generated service classes send that method to that path with that params type;
- every parameter and nested key (`items[0][price]`, `metadata[partner_id]`, `expand[0]`) exists
  for that method and path; request options (`idempotency_key`, `stripe_account`, ...) are not
  parameters;
- every enum value is one Stripe allows (the generated `Literal[...]`; the `|str` the library adds to
  every enum for forward compatibility is not taken as "any string"), booleans are `true`/`false`,
  integers are integers, and an empty value only where Stripe allows one (`Literal['']`: unset);
- a nested object we send carries its required keys (`pause_collection[behavior]`);
- every POST carries an Idempotency-Key (at most 255 characters), every request a Stripe-Version;
- metadata stays within Stripe's limits (50 keys, key 40 characters, value 500).

Usage:
  check_stripe_requests.py REQUESTS.json   check recorded requests (fails on any finding)
  check_stripe_requests.py --self-test     plant known errors and show each one is caught
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
import types
import typing
from pathlib import Path

import typing_extensions

try:
    import stripe
    import stripe.params  # noqa: F401  (the generated parameter types)
    from stripe._request_options import RequestOptions
except ImportError as exc:  # pragma: no cover - the venv is made by `make venv`
    sys.exit(f"the stripe package is missing ({exc}): run `make venv`")

# (method, path template, params type): every request our client may send. `{}` is one path segment
# (an id). The params type is named as stripe.params exports it; Stripe's generated services are
# checked to send that method to that path with that type (see `stripe_routes`).
ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/v1/customers", "CustomerCreateParams"),
    ("POST", "/v1/customers/{}", "CustomerUpdateParams"),
    ("GET", "/v1/customers/{}", "CustomerRetrieveParams"),
    ("POST", "/v1/subscriptions", "SubscriptionCreateParams"),
    ("POST", "/v1/subscriptions/{}", "SubscriptionUpdateParams"),
    ("DELETE", "/v1/subscriptions/{}", "SubscriptionCancelParams"),
    ("GET", "/v1/subscriptions/{}", "SubscriptionRetrieveParams"),
    ("GET", "/v1/subscriptions", "SubscriptionListParams"),
    ("GET", "/v1/invoices/{}", "InvoiceRetrieveParams"),
    ("POST", "/v1/invoices/{}/pay", "InvoicePayParams"),
    ("GET", "/v1/invoice_payments", "InvoicePaymentListParams"),
    ("POST", "/v1/refunds", "RefundCreateParams"),
    ("POST", "/v1/setup_intents", "SetupIntentCreateParams"),
    ("POST", "/v1/billing_portal/sessions", "billing_portal.SessionCreateParams"),
    # The customer portal's configuration (issue 21, item 5), mapped ahead of its requests.
    ("POST", "/v1/billing_portal/configurations", "billing_portal.ConfigurationCreateParams"),
    ("POST", "/v1/billing_portal/configurations/{}", "billing_portal.ConfigurationUpdateParams"),
    ("GET", "/v1/billing_portal/configurations", "billing_portal.ConfigurationListParams"),
    ("GET", "/v1/billing_portal/configurations/{}", "billing_portal.ConfigurationRetrieveParams"),
    ("GET", "/v1/events", "EventListParams"),
]

MAX_IDEMPOTENCY_KEY = 255
METADATA_LIMITS = {"keys": 50, "key": 40, "value": 500}


def params_type(name: str) -> type:
    """`SubscriptionCreateParams` or `billing_portal.SessionCreateParams`, from stripe.params."""
    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module("stripe.params" + (f".{module}" if module else "")), cls)


# ---------------------------------------------------------------------------------------------------
# Stripe's own routes, read from its generated service classes (`self._request("post", "/v1/...")`).


def stripe_routes() -> dict[tuple[str, str], set[type]]:
    """(METHOD, path template with `{}`) -> the params types Stripe's services send there."""
    routes: dict[tuple[str, str], set[type]] = {}
    root = Path(stripe.__file__).parent
    for source in sorted(root.rglob("*_service.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe.params"):
                for alias in node.names:
                    imported[alias.asname or alias.name] = node.module
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            params = None
            for arg in func.args.args + func.args.posonlyargs + func.args.kwonlyargs:
                if arg.arg == "params" and arg.annotation is not None:
                    text = ast.unparse(arg.annotation)
                    found = re.search(r"['\"](\w+Params)['\"]", text)
                    params = found.group(1) if found else None
            for call in ast.walk(func):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "_request"
                    and len(call.args) >= 2
                    and isinstance(call.args[0], ast.Constant)
                ):
                    continue
                path = call.args[1]
                if isinstance(path, ast.Call) and isinstance(path.func, ast.Attribute):
                    path = path.func.value
                if not isinstance(path, ast.Constant) or not isinstance(path.value, str):
                    continue
                template = re.sub(r"\{[^}]*\}", "{}", path.value)
                key = (call.args[0].value.upper(), template)
                kinds = routes.setdefault(key, set())
                if params and params in imported:
                    kinds.add(getattr(importlib.import_module(imported[params]), params))
    return routes


_stripe_routes: dict[tuple[str, str], set[type]] | None = None


def stripe_routes_cached() -> dict[tuple[str, str], set[type]]:
    global _stripe_routes
    if _stripe_routes is None:
        _stripe_routes = stripe_routes()
    return _stripe_routes


def check_routes_against_stripe() -> list[str]:
    """Each of ROUTES is a route of Stripe's API taking that params type."""
    theirs = stripe_routes_cached()
    findings = []
    for method, template, name in ROUTES:
        kinds = theirs.get((method, template))
        if kinds is None:
            findings.append(f"ROUTES: Stripe's library has no {method} {template}")
        elif params_type(name) not in kinds:
            named = ", ".join(sorted(k.__name__ for k in kinds)) or "none"
            findings.append(f"ROUTES: Stripe's {method} {template} takes {named}, not {name}")
    return findings


# ---------------------------------------------------------------------------------------------------
# The generated TypedDicts, read as types.

_OPTIONS = set(RequestOptions.__annotations__)
_hints_cache: dict[type, dict[str, object]] = {}


def hints(cls: type) -> dict[str, object]:
    """The keys of a params TypedDict and their types (request options left out)."""
    if cls not in _hints_cache:
        module = sys.modules[cls.__module__]
        namespace = {**vars(typing), **vars(typing_extensions), **vars(module), "StripeContext": object}
        found = typing.get_type_hints(cls, globalns=namespace, include_extras=True)
        if issubclass(cls, dict) and RequestOptions in getattr(cls, "__orig_bases__", ()):
            found = {k: v for k, v in found.items() if k not in _OPTIONS}
        _hints_cache[cls] = found
    return _hints_cache[cls]


def is_typeddict(t: object) -> bool:
    return isinstance(t, type) and typing_extensions.is_typeddict(t)


def required_keys(cls: type) -> set[str]:
    return {k for k in getattr(cls, "__required_keys__", set()) if k in hints(cls)}


def strip(t: object) -> object:
    """Without NotRequired/Required/Annotated."""
    while True:
        origin = typing_extensions.get_origin(t)
        if origin in (typing_extensions.NotRequired, typing_extensions.Required, typing_extensions.Annotated):
            t = typing_extensions.get_args(t)[0]
        else:
            return t


def members(t: object) -> list[object]:
    """The alternatives of a union (one alternative otherwise)."""
    t = strip(t)
    if typing_extensions.get_origin(t) in (typing.Union, types.UnionType):
        out = []
        for arg in typing_extensions.get_args(t):
            out.extend(members(arg))
        return out
    return [t]


def literals(alternatives: list[object]) -> list[object]:
    values = []
    for alt in alternatives:
        if typing_extensions.get_origin(alt) is typing_extensions.Literal:
            values.extend(typing_extensions.get_args(alt))
    return values


def is_mapping(alt: object) -> bool:
    origin = typing_extensions.get_origin(alt)
    if origin in (dict, typing.Dict):
        return True
    name = getattr(origin, "__name__", "") if origin else getattr(alt, "__name__", "")
    return name == "UntypedStripeObject"


def is_list(alt: object) -> bool:
    return typing_extensions.get_origin(alt) in (list, typing.List)


def describe(alternatives: list[object]) -> str:
    return " | ".join(sorted({getattr(a, "__name__", None) or str(a).replace("typing.", "") for a in alternatives}))


def check_leaf(where: str, value: str, t: object) -> str | None:
    """Why `value` cannot be `t` (None when it can)."""
    alternatives = members(t)
    values = literals(alternatives)
    enum = [v for v in values if v != ""]
    if value == "":
        if "" in values:
            return None
        return f"{where}: empty, which Stripe does not accept here (no Literal[''])"
    if int in alternatives and re.fullmatch(r"-?\d+", value):
        return None
    if float in alternatives and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return None
    if enum:
        if value in enum:
            return None
        return f"{where}: {value!r} is not one of Stripe's values {sorted(map(str, enum))}"
    if bool in alternatives and value in ("true", "false"):
        return None
    if str in alternatives:
        return None
    if bool in alternatives:
        return f"{where}: {value!r} is not a boolean (true or false)"
    if int in alternatives or float in alternatives:
        return f"{where}: {value!r} is not a number"
    return f"{where}: a value where Stripe expects {describe(alternatives)}"


def walk(where: str, segments: list[str], value: str, t: object) -> str | None:
    """Why the form key `where` (its remaining `segments`) with `value` does not fit `t`."""
    if not segments:
        return check_leaf(where, value, t)
    head, rest = segments[0], segments[1:]
    reasons = []
    for alt in members(t):
        if is_list(alt):
            if not head.isdigit():
                reasons.append(f"{where}: [{head}] where Stripe expects a list index")
                continue
            reason = walk(f"{where}[{head}]", rest, value, typing_extensions.get_args(alt)[0])
        elif is_mapping(alt):
            args = typing_extensions.get_args(alt)
            reason = walk(f"{where}[{head}]", rest, value, args[-1] if args else str)
        elif is_typeddict(alt):
            fields = hints(alt)
            if head not in fields:
                reasons.append(f"{where}[{head}]: no such key (Stripe's {alt.__name__} has {sorted(fields)})")
                continue
            reason = walk(f"{where}[{head}]", rest, value, fields[head])
        else:
            continue
        if reason is None:
            return None
        reasons.append(reason)
    if not reasons:
        return f"{where}[{head}]: Stripe expects {describe(members(t))}, which has no keys"
    return reasons[0]


def parse_key(key: str) -> list[str] | None:
    """`a[b][0][c]` -> [a, b, 0, c] (None when not of that form)."""
    match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
    if not match:
        return None
    return [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))


def object_paths(form: list[tuple[str, str]]) -> set[tuple[str, ...]]:
    """Every nested object the form sends keys of, as key prefixes (`("pause_collection",)`)."""
    prefixes = set()
    for key, _ in form:
        segments = parse_key(key) or []
        for n in range(1, len(segments)):
            prefixes.add(tuple(segments[:n]))
    return prefixes


def resolve(t: object, path: tuple[str, ...]) -> list[type]:
    """The TypedDicts reached by `path` from `t`."""
    if not path:
        return [alt for alt in members(t) if is_typeddict(alt)]
    head, rest = path[0], path[1:]
    found = []
    for alt in members(t):
        if is_list(alt) and head.isdigit():
            found += resolve(typing_extensions.get_args(alt)[0], rest)
        elif is_mapping(alt):
            args = typing_extensions.get_args(alt)
            found += resolve(args[-1] if args else str, rest)
        elif is_typeddict(alt) and head in hints(alt):
            found += resolve(hints(alt)[head], rest)
    return found


def check_params(label: str, pairs: list[tuple[str, str]], cls: type) -> list[str]:
    findings = []
    fields = hints(cls)
    for key, value in pairs:
        segments = parse_key(key)
        if segments is None:
            findings.append(f"{label}: {key!r} is not a Stripe form key")
            continue
        if segments[0] in _OPTIONS and segments[0] not in fields:
            findings.append(f"{label}: {segments[0]} is a request option (a header), not a parameter")
            continue
        if segments[0] not in fields:
            findings.append(f"{label}: no parameter {segments[0]!r} in Stripe's {cls.__name__}")
            continue
        reason = walk(segments[0], segments[1:], value, fields[segments[0]])
        if reason:
            findings.append(f"{label}: {reason} ({cls.__name__})")
    sent = {parse_key(k)[0] for k, _ in pairs if parse_key(k)}
    for missing in sorted(required_keys(cls) - sent):
        findings.append(f"{label}: required parameter {missing!r} of {cls.__name__} is missing")
    keys = {tuple(parse_key(k) or []) for k, _ in pairs}
    for prefix in sorted(object_paths(pairs)):
        for nested in _resolve_top(cls, prefix):
            have = {k[len(prefix)] for k in keys if len(k) > len(prefix) and k[: len(prefix)] == prefix}
            for missing in sorted(required_keys(nested) - have):
                path = prefix[0] + "".join(f"[{p}]" for p in prefix[1:])
                findings.append(f"{label}: {path}[{missing}] is required by Stripe's {nested.__name__}")
    for key, value in pairs:
        segments = parse_key(key) or []
        if segments[:1] == ["metadata"] and len(segments) == 2:
            if len(segments[1]) > METADATA_LIMITS["key"]:
                findings.append(f"{label}: metadata key {segments[1]!r} is longer than 40 characters")
            if len(value) > METADATA_LIMITS["value"]:
                findings.append(f"{label}: metadata[{segments[1]}] is longer than 500 characters")
    if sum(1 for k, _ in pairs if (parse_key(k) or [""])[0] == "metadata") > METADATA_LIMITS["keys"]:
        findings.append(f"{label}: more than 50 metadata keys")
    return findings


def _resolve_top(cls: type, prefix: tuple[str, ...]) -> list[type]:
    fields = hints(cls)
    if prefix[0] not in fields:
        return []
    return resolve(fields[prefix[0]], prefix[1:])


# ---------------------------------------------------------------------------------------------------
# Requests.


def best_template(templates: list[str], path: str) -> str | None:
    """The most specific template matching `path` (literal segments beat `{}`)."""
    segments = path.split("/")
    best, best_score = None, -1
    for candidate in templates:
        template = candidate.split("/")
        if len(template) != len(segments):
            continue
        score = 0
        for want, got in zip(template, segments):
            if want == "{}":
                if not got:
                    break
            elif want == got:
                score += 1
            else:
                break
        else:
            if score > best_score:
                best, best_score = candidate, score
    return best


def route_of(method: str, path: str) -> tuple[str, str, str] | None:
    """The route of ROUTES that `method` `path` is."""
    template = best_template([t for m, t, _ in ROUTES if m == method], path)
    return next((r for r in ROUTES if r[0] == method and r[1] == template), None)


def check_request(request: dict) -> list[str]:
    method = request["method"].upper()
    path = request["path"]
    label = f"{request.get('label') or '?'}: {method} {path}"
    headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
    form = [tuple(p) for p in request.get("form") or []]
    query = [tuple(p) for p in request.get("query") or []]
    findings = []
    route = route_of(method, path)
    if route is None:
        theirs = stripe_routes_cached()
        template = best_template([t for m, t in theirs if m == method], path)
        kinds = theirs.get((method, template)) if template else None
        known = (
            f"Stripe's library takes {', '.join(sorted(k.__name__ for k in kinds))} there: map it"
            if kinds
            else "Stripe's library has no such route either"
        )
        return [f"{label}: not in the checker's ROUTES ({known})"]
    cls = params_type(route[2])
    if method == "GET":
        if form:
            findings.append(f"{label}: a GET with a form body")
        findings += check_params(label, query, cls)
    else:
        if query:
            findings.append(f"{label}: parameters in the query string of a {method}")
        findings += check_params(label, form, cls)
    key = headers.get("idempotency-key", "")
    if method == "POST" and not key:
        findings.append(f"{label}: a POST without an Idempotency-Key header")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        findings.append(f"{label}: an Idempotency-Key of {len(key)} characters (Stripe takes {MAX_IDEMPOTENCY_KEY})")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.\w+)?", headers.get("stripe-version", "")):
        findings.append(f"{label}: no Stripe-Version header")
    return findings


def check(requests: list[dict]) -> tuple[list[str], dict[tuple[str, str], int]]:
    findings = check_routes_against_stripe()
    used: dict[tuple[str, str], int] = {(m, t): 0 for m, t, _ in ROUTES}
    for request in requests:
        findings += check_request(request)
        route = route_of(request["method"].upper(), request["path"])
        if route:
            used[(route[0], route[1])] += 1
    for (method, template), count in used.items():
        if count == 0:
            print(f"note: {method} {template} is mapped but was not sent by the test")
    return findings, used


# ---------------------------------------------------------------------------------------------------
# Self-test: known-good requests pass, each planted error is caught.

_HEADERS = {"idempotency-key": "self-test-1", "stripe-version": "2026-09-30.endive"}


def _request(label, method, path, form=(), query=(), headers=None):
    return {
        "label": label,
        "method": method,
        "path": path,
        "headers": dict(_HEADERS if headers is None else headers),
        "form": [list(p) for p in form],
        "query": [list(p) for p in query],
    }


GOOD = [
    _request("create_subscription", "POST", "/v1/subscriptions", [
        ("customer", "cus_1"), ("items[0][price]", "price_gold"), ("metadata[partner_id]", "p1"),
        ("collection_method", "send_invoice"), ("days_until_due", "30"), ("cancel_at", "1800000000"),
    ]),
    _request("pause_collection", "POST", "/v1/subscriptions/sub_1", [
        ("pause_collection[behavior]", "void"), ("pause_collection[resumes_at]", "1800000000"),
    ]),
    _request("clear pause", "POST", "/v1/subscriptions/sub_1", [("pause_collection", "")]),
    _request("cancel", "DELETE", "/v1/subscriptions/sub_1", [("prorate", "true"), ("invoice_now", "false")]),
    _request("events", "GET", "/v1/events", query=[("created[gte]", "1"), ("limit", "100")]),
]

PLANTED = [
    ("a misspelled parameter", "no parameter 'colection_method'",
     _request("typo", "POST", "/v1/subscriptions", [("customer", "cus_1"), ("colection_method", "send_invoice")])),
    ("an enum value Stripe does not have", "'allow_incompleted' is not one of",
     _request("enum", "POST", "/v1/subscriptions", [("customer", "cus_1"), ("payment_behavior", "allow_incompleted")])),
    ("a nested enum value", "'pause' is not one of",
     _request("nested enum", "POST", "/v1/subscriptions/sub_1", [("pause_collection[behavior]", "pause")])),
    ("an unknown nested key", "items[0][prices]: no such key",
     _request("nested", "POST", "/v1/subscriptions", [("customer", "cus_1"), ("items[0][prices]", "price_gold")])),
    ("a list index where an object is", "[price] where Stripe expects a list index",
     _request("list", "POST", "/v1/subscriptions", [("customer", "cus_1"), ("items[price]", "price_gold")])),
    ("a POST without an idempotency key", "without an Idempotency-Key",
     _request("no key", "POST", "/v1/refunds", [("payment_intent", "pi_1")], headers={"stripe-version": "2026-09-30.endive"})),
    ("a request option sent as a parameter", "idempotency_key is a request option",
     _request("option", "POST", "/v1/refunds", [("payment_intent", "pi_1"), ("idempotency_key", "k")])),
    ("a boolean that is not one", "'yes' is not a boolean",
     _request("bool", "DELETE", "/v1/subscriptions/sub_1", [("prorate", "yes")])),
    ("an empty value Stripe does not unset", "empty, which Stripe does not accept",
     _request("empty", "POST", "/v1/subscriptions", [("customer", "cus_1"), ("collection_method", "")])),
    ("a nested object without its required key", "pause_collection[behavior] is required",
     _request("required", "POST", "/v1/subscriptions/sub_1", [("pause_collection[resumes_at]", "1800000000")])),
    ("a path Stripe does not have", "Stripe's library has no such route either",
     _request("path", "POST", "/v1/subscription", [("customer", "cus_1")])),
    ("a request the table does not map", "Stripe's library takes CustomerDeleteParams there: map it",
     _request("unmapped", "DELETE", "/v1/customers/cus_1")),
    ("a parameter without a name", "'' is not a Stripe form key",
     _request("nameless", "GET", "/v1/invoices/in_1", query=[("", "")])),
    ("a query parameter a list does not take", "no parameter 'created_gte'",
     _request("query", "GET", "/v1/events", query=[("created_gte", "1")])),
    ("a metadata key over Stripe's limit", "longer than 40 characters",
     _request("metadata", "POST", "/v1/customers", [("metadata[" + "k" * 41 + "]", "v")])),
]


def self_test() -> int:
    failures = []
    for request in GOOD:
        findings = check_request(request)
        if findings:
            failures.append(f"a good request was refused: {findings}")
    for what, expected, request in PLANTED:
        findings = check_request(request)
        if not any(expected in f for f in findings):
            failures.append(f"{what} was not caught (expected {expected!r}, got {findings})")
        else:
            print(f"caught {what}: {next(f for f in findings if expected in f)}")
    failures += check_routes_against_stripe()
    planted_route = ("POST", "/v1/subscriptions/{}", "SubscriptionCancelParams")
    ROUTES.append(planted_route)
    try:
        caught = [f for f in check_routes_against_stripe() if "not SubscriptionCancelParams" in f]
    finally:
        ROUTES.remove(planted_route)
    if caught:
        print(f"caught a route mapped to the wrong params type: {caught[0]}")
    else:
        failures.append("a route mapped to the wrong params type was not caught")
    for failure in failures:
        print(f"SELF-TEST FAILED: {failure}", file=sys.stderr)
    checked = len(GOOD) + len(PLANTED) + 1
    print(f"stripe request checker self-test: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    recorded = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    requests = recorded["requests"] if isinstance(recorded, dict) else recorded
    if not requests:
        print(f"{argv[1]}: no requests recorded", file=sys.stderr)
        return 1
    findings, used = check(requests)
    for finding in findings:
        print(f"NOT STRIPE'S API: {finding}", file=sys.stderr)
    print(
        f"stripe requests vs stripe {stripe.VERSION} (API {stripe.api_version}): {len(requests)} requests "
        f"on {sum(1 for c in used.values() if c)} routes, {len(findings)} findings"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
