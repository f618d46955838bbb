"""A partner's webhook receiver that verifies our signatures without any library
(Standard Webhooks, https://www.standardwebhooks.com). Standard library only; see
docs/WEBHOOKS.md. Run: ``WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

TOLERANCE_SECONDS = 300  # refuse requests signed more than 5 minutes ago (or ahead)


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The event, if the request is ours and recent; raises ValueError otherwise."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id = h.get("webhook-id", "")
    timestamp = h.get("webhook-timestamp", "")
    signatures = h.get("webhook-signature", "")
    if not (msg_id and timestamp.isdigit() and signatures):
        raise ValueError("missing webhook headers")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError("timestamp outside the tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split(" "):  # several during a secret rotation
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            event: dict[str, Any] = json.loads(body)
            return event
    raise ValueError("no matching signature")


SEEN: set[str] = set()  # use a database: delivery is at least once


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = verify(os.environ["WEBHOOK_SECRET"], dict(self.headers), body)
        except ValueError:
            self.send_response(400)
        else:
            if event["id"] not in SEEN:  # the same id on every retry
                SEEN.add(event["id"])
                print(event["type"], event["data"]["assessment_id"])
            self.send_response(204)  # any 2xx; 410 Gone would disable the endpoint
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 8080), Handler).serve_forever()
