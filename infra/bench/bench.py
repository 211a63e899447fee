#!/usr/bin/env python3
"""`make bench`: cold start, first invoke and peak memory of every function against a hello-world
baseline, and bootstrap sizes, printed as one markdown table with each target and pass/fail.

Runs inside `stack.py run` (moto and localstripe on free ports). Each function's bootstrap (release
profile) answers its sample event from events/ under the team's `lambda-init-time` (it plays the
Lambda Runtime API); the hello-world of infra/bench/hello-world, built with the same profile, is
measured just before and just after each function, so that the ratio compares like with like on a
machine whose speed drifts. Sizes are the arm64 bootstraps `make package` (sam build) leaves, or the
host's release binaries when those are absent (the table says which).
"""
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INIT_TIME = os.path.join(os.path.dirname(ROOT), "shared", "tools", "lambda-init-time")
STATE = os.path.join(ROOT, ".local", "bench")
RUNS = int(os.environ.get("BENCH_RUNS", "8"))

# (function, its SAM resource, the sample event it answers)
FUNCTIONS = [
    ("admin-api", "AdminApiFunction", "admin-list-tiers.json"),
    ("partner-portal", "PartnerPortalFunction", "portal-me.json"),
    ("stripe-webhook", "StripeWebhookFunction", "stripe-invoice-paid.json"),
    ("stripe-reconcile", "StripeReconcileFunction", "scheduled-reconcile.json"),
    ("expiry-sweep", "ExpirySweepFunction", "scheduled-sweep.json"),
    ("outbox-relay", "OutboxRelayFunction", "dynamodb-stream-outbox.json"),
    ("email-sender", "EmailSenderFunction", "email-payment-receipt.json"),
]
TARGET_RATIO, TARGET_RSS_MB, TARGET_SIZE_MB = 2.0, 32, 8.0


def run(*cmd, env=None, capture=False):
    result = subprocess.run(cmd, cwd=ROOT, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout if capture else None


def local_env():
    env = dict(os.environ)
    with open(os.path.join(ROOT, "infra", "local", "local.env")) as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            if sep and not name.startswith("#"):
                env.setdefault(name, value.strip('"'))
    env.update(TABLE_NAME=f"bench-{os.getpid()}", EVENT_BUS_NAME=f"bench-{os.getpid()}", RUST_LOG="warn")
    return env


def measure(binary, event, env):
    """Median init (ms), first invoke (ms) and peak RSS (kB) of `binary` over RUNS runs."""
    out = subprocess.run([INIT_TIME, binary, "--event", event, "--runs", str(RUNS)], cwd=ROOT, env=env,
                         check=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    inits = [float(m) for m in re.findall(r"run \d+: init ([\d.]+) ms", out)]
    invokes = [float(m) for m in re.findall(r"invoke ([\d.]+) ms", out)]
    rss = [int(m) for m in re.findall(r"peak rss (\d+) kB", out)]
    if not inits:
        raise SystemExit(f"lambda-init-time gave no runs for {binary}:\n{out}")
    return inits, statistics.median(invokes), max(rss)


def size_of(name, resource):
    for path, arch in ((os.path.join(ROOT, ".aws-sam", "build", resource, "bootstrap"), "arm64"),
                       (os.path.join(ROOT, "target", "lambda", name, "bootstrap"), "arm64"),
                       (os.path.join(ROOT, "target", "release", name), platform.machine())):
        if os.path.exists(path):
            return os.path.getsize(path) / 1_000_000, arch
    return None, None


def main():
    if not os.path.exists(INIT_TIME):
        raise SystemExit("lambda-init-time is not beside the repository (../shared/tools)")
    env = local_env()
    os.makedirs(STATE, exist_ok=True)
    run("cargo", "build", "--quiet", "-p", "devtool")
    run("cargo", "build", "--quiet", "--release", "-p", "hello-world",
        *[arg for name, _, _ in FUNCTIONS for arg in ("-p", name)])
    devtool = os.path.join(ROOT, "target", "debug", "devtool")
    run(devtool, "create-table", env=env, capture=True)
    run(devtool, "seed", "infra/seed/demo-partners.json", env=env, capture=True)
    run(devtool, "stripe-demo", "infra/seed/demo-partners.json", os.path.join(STATE, "customers.json"), env=env,
        capture=True)
    setup = run(sys.executable, "infra/local/pipeline.py", "setup", env=env, capture=True)
    for line in setup.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            env[name] = value
    # The API samples with tokens signed now (the checked-in ones may have expired).
    events = os.path.join(STATE, "events")
    shutil.rmtree(events, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "events"), events)
    run(devtool, "sample-tokens", events, env=env, capture=True)

    hello = os.path.join(ROOT, "target", "release", "hello-world")
    rows = []
    for name, resource, sample in FUNCTIONS:
        event = os.path.join(events, sample)
        before, _, _ = measure(hello, event, env)
        inits, invoke, rss = measure(os.path.join(ROOT, "target", "release", name), event, env)
        after, _, _ = measure(hello, event, env)
        baseline = statistics.median(before + after)
        init = statistics.median(inits)
        size, arch = size_of(name, resource)
        rows.append((name, init, baseline, init / baseline, invoke, rss / 1024, size, arch))

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, {cpu}; {RUNS} runs each, medians\n")
    print("| function | cold init | hello-world | ratio (target <= 2x) | first invoke | peak RSS (<= 32 MB) "
          "| bootstrap (<= 8 MB) |")
    print("|---|---|---|---|---|---|---|")
    failed = 0
    for name, init, baseline, ratio, invoke, rss_mb, size, arch in rows:
        ratio_ok, rss_ok = ratio <= TARGET_RATIO, rss_mb <= TARGET_RSS_MB
        size_ok = size is not None and size <= TARGET_SIZE_MB
        failed += (not ratio_ok) + (not rss_ok) + (not size_ok)
        size_text = f"{size:.1f} MB {arch}" if size is not None else "not built"
        print(f"| {name} | {init:.1f} ms | {baseline:.1f} ms | {ratio:.1f}x {'pass' if ratio_ok else 'FAIL'} "
              f"| {invoke:.1f} ms | {rss_mb:.1f} MB {'pass' if rss_ok else 'FAIL'} "
              f"| {size_text} {'pass' if size_ok else 'FAIL'} |")
    print(f"\n{failed} figure(s) over target" if failed else "\nevery figure within its target")


if __name__ == "__main__":
    main()
