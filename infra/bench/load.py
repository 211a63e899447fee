#!/usr/bin/env python3
"""The admin API under concurrent clients: `load.py URL TOKEN [CLIENTS] [SECONDS]` sends a mix of an
admin's reads and tier changes from CLIENTS threads (8) for SECONDS (20) and prints one JSON line:
requests, errors (5xx, connection failures, anything over 2 s), p50, p99 and max latency in ms, and
per route its requests, median and max.

The mix, per client, round robin: a partner's page, the partner list, the dashboard's active tab, a
PCR preview, and a tier change of the client's own partner (platinum and back, each with the version
it just read, so clients never conflict with one another). Only manually billed demo partners are
changed, so Stripe is not part of the figure.
"""
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

SLOW_MS = 2_000
PARTNERS = ["contractorpro", "apex-hvac", "cornerstone-finance", "ironclad-insurance", "precision-estimating",
            "trueline-surveys", "vertex-lending", "summit-roofing"]


def call(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        status, text = refused.code, refused.read()
    except OSError:
        status, text = 0, b""
    return status, text, (time.perf_counter() - started) * 1000


def client(base, token, partner, deadline, results):
    tier = "platinum"
    step = 0
    while time.monotonic() < deadline:
        kind = step % 5
        step += 1
        if kind == 0:
            results.append(("GET partner", *call(base, token, "GET", f"/admin/partners/{partner}")[::2]))
        elif kind == 1:
            results.append(("GET partner list", *call(base, token, "GET", "/admin/partners?limit=25")[::2]))
        elif kind == 2:
            results.append(("GET active subscriptions",
                            *call(base, token, "GET", "/admin/subscriptions?tab=active")[::2]))
        elif kind == 3:
            results.append(("GET tier preview",
                            *call(base, token, "GET", f"/admin/partners/{partner}/tier-preview?tier=gold")[::2]))
        else:
            status, text, ms = call(base, token, "GET", f"/admin/partners/{partner}")
            results.append(("GET partner", status, ms))
            try:
                version = json.loads(text)["version"]
            except (ValueError, KeyError, TypeError):
                continue
            results.append(("PATCH tier", *call(base, token, "PATCH", f"/api/partners/{partner}/engagement-tier",
                                                {"engagement_tier": tier, "reason": "load test",
                                                 "expected_version": version})[::2]))
            tier = "gold" if tier == "platinum" else "platinum"


def main(argv):
    base, token = argv[0].rstrip("/"), argv[1]
    clients = int(argv[2]) if len(argv) > 2 else 8
    seconds = float(argv[3]) if len(argv) > 3 else 20
    deadline = time.monotonic() + seconds
    per_client = [[] for _ in range(clients)]
    threads = [threading.Thread(target=client, args=(base, token, PARTNERS[i % len(PARTNERS)], deadline,
                                                     per_client[i])) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [r for rs in per_client for r in rs]
    latencies = sorted(ms for _, _, ms in results)
    statuses = {}
    for _, status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    errors = sum(1 for _, status, ms in results if status == 0 or status >= 500 or ms > SLOW_MS)
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
    by_route = {}
    for route, _, ms in results:
        by_route.setdefault(route, []).append(ms)
    routes = {route: {"requests": len(ms), "median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1)}
              for route, ms in sorted(by_route.items())}
    print(json.dumps({
        "clients": clients, "seconds": seconds, "requests": len(results), "errors": errors,
        "statuses": statuses, "p50_ms": round(quantile(0.50), 1), "p99_ms": round(quantile(0.99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0, "routes": routes,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
