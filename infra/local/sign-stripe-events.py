#!/usr/bin/env python3
"""Signs the Stripe webhook samples in events/ (stripe-*.json) as Stripe does, with the local signing
secret (STRIPE_WEBHOOK_SECRET in infra/local/local.env) and a fresh timestamp, so that
`cargo lambda invoke stripe-webhook --data-file events/stripe-....json` and `sam local invoke -e`
accept them (a signature is only good for 300 s).

  sign-stripe-events.py            re-sign every sample now
  sign-stripe-events.py --at T     sign at Unix time T (the committed samples use a fixed T)
  sign-stripe-events.py --out DIR  write the signed copies to DIR, leaving events/ as it is
                                   (`make dev` prints this with DIR under .local/)
"""
import base64
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def local_secret() -> str:
    for line in (ROOT / "infra/local/local.env").read_text().splitlines():
        if line.startswith("STRIPE_WEBHOOK_SECRET="):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("STRIPE_WEBHOOK_SECRET is missing from infra/local/local.env")


def sign(path: Path, secret: str, timestamp: int, out: Path) -> None:
    event = json.loads(path.read_text())
    body = event["body"]
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    event["headers"]["stripe-signature"] = f"t={timestamp},v1={mac}"
    event["requestContext"]["timeEpoch"] = timestamp * 1000
    out.write_text(json.dumps(event, indent=2) + "\n")


def main(argv: list[str]) -> None:
    timestamp = int(argv[argv.index("--at") + 1]) if "--at" in argv else int(time.time())
    secret = local_secret()
    out_dir = Path(argv[argv.index("--out") + 1]) if "--out" in argv else ROOT / "events"
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = sorted((ROOT / "events").glob("stripe-*.json"))
    for path in samples:
        out = out_dir / path.name
        sign(path, secret, timestamp, out)
        print(f"signed {out} at {timestamp}")


if __name__ == "__main__":
    main(sys.argv[1:])
