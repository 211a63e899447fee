#!/usr/bin/env python3
"""Puts real answers into the API descriptions as response examples.

Usage (inside `make api-examples`, which serves the functions as `make test` does):
  record_examples.py BASE_URL ADMIN_TOKEN PARTNER_TOKEN

Every API sample in events/ (admin-*.json, portal-*.json) is sent to the functions at BASE_URL with a
fresh token, and its answer becomes an example of that operation's status in infra/api/, named after
the sample. Earlier recorded examples are replaced; the descriptions are written back in one layout.
"""
import base64
import glob
import json
import os
import sys
import urllib.error
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
METHODS = ("get", "put", "post", "patch", "delete")
DESCRIPTIONS = {"admin": "admin-api.openapi.yaml", "portal": "partner-portal.openapi.yaml"}


def send(base, method, path, query, body, token):
    url = base + path + (("?" + query) if query else "")
    data = body.encode() if body else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def operation_of(paths, method, raw_path):
    segments = raw_path.strip("/").split("/")
    for template, item in paths.items():
        parts = template.strip("/").split("/")
        if len(parts) == len(segments) and all(
            p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segments)
        ):
            if method.lower() in item:
                return item[method.lower()]
    return None


def main(base, admin_token, partner_token):
    documents = {}
    for kind, name in DESCRIPTIONS.items():
        with open(os.path.join(HERE, name)) as f:
            documents[kind] = yaml.safe_load(f)
        for item in documents[kind]["paths"].values():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                for response in (operation.get("responses") or {}).values():
                    for media in (response.get("content") or {}).values():
                        media.pop("examples", None)
    recorded = 0
    for file in sorted(glob.glob(os.path.join(ROOT, "events", "*.json"))):
        sample = os.path.basename(file)[: -len(".json")]
        kind = sample.split("-", 1)[0]
        if kind not in documents:
            continue
        with open(file) as f:
            event = json.load(f)
        method = event["requestContext"]["http"]["method"]
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        token = admin_token if kind == "admin" else partner_token
        status, content_type, answer = send(base, method, event["rawPath"], event.get("rawQueryString", ""), body, token)
        operation = operation_of(documents[kind]["paths"], method, event["rawPath"])
        if operation is None:
            raise SystemExit(f"{sample}: {method} {event['rawPath']} is not described")
        media_type = content_type.split(";")[0].strip()
        if not answer or not media_type:
            continue  # a redirect or an empty answer: its headers are described, not a body
        value = json.loads(answer) if "json" in media_type else answer.decode()
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get(status) or responses.get("default")
        if response is None:
            raise SystemExit(f"{sample}: {status} is not described for {method} {event['rawPath']}")
        if "$ref" in response:
            continue  # a shared response (problem+json): its schema says all there is
        media = response.setdefault("content", {}).setdefault(media_type, {})
        media.setdefault("examples", {})[sample] = {
            "summary": f"{method} {event['rawPath']} (events/{sample}.json), as the function answered it",
            "value": value,
        }
        recorded += 1
    for kind, name in DESCRIPTIONS.items():
        with open(os.path.join(HERE, name), "w") as f:
            yaml.safe_dump(documents[kind], f, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)
    print(f"recorded {recorded} examples from the API samples in events/")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
