"""A partner's page with the embedded assessment, standard library only (docs/PARTNERS.md).

    SMM_API=http://127.0.0.1:8000 SMM_SECRET_KEY=smmk_... python examples/partner_page.py
    # then open http://127.0.0.1:8001/ (register http://127.0.0.1:8001 as the key's origin)

Each page view mints a session client secret on this server with the secret key (the session
flow: the browser never sees the secret key) and renders the snippet with it. With
SMM_PUBLISHABLE_KEY=smmp_... set instead, the page uses the publishable key and mints nothing.
The page also logs the widget's events to the browser console.
"""

from __future__ import annotations

import html
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = os.environ.get("SMM_API", "http://127.0.0.1:8000").rstrip("/")
PORT = int(os.environ.get("PORT", "8001"))

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner shop</title></head>
<body>
<h1>How mature is your social media work?</h1>
<div id="assessment"></div>
<script src="{api}/static/embed.js" async {attributes}></script>
<script>
  document.addEventListener('smm:submitted', (e) => console.log('submitted', e.detail.assessment_id));
  document.addEventListener('smm:result_shown', (e) => console.log('result', e.detail));
</script>
</body></html>
"""


def mint_session(reference: str) -> dict[str, str]:
    """POST /v1/partner/sessions with the secret key (on this server only)."""
    req = urllib.request.Request(
        f"{API}/v1/partner/sessions",
        data=json.dumps({"reference": reference, "ttl_seconds": 3600}).encode(),
        headers={
            "Authorization": f"Bearer {os.environ['SMM_SECRET_KEY']}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return dict(json.load(r))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        publishable = os.environ.get("SMM_PUBLISHABLE_KEY")
        if publishable:
            attrs = {"data-partner": publishable, "data-reference": "demo-visitor"}
        else:
            session = mint_session("demo-visitor")
            attrs = {
                "data-partner": session["partner_id"],
                "data-client-secret": session["client_secret"],
            }
        attrs["data-target"] = "#assessment"
        attributes = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        body = PAGE.format(api=html.escape(API), attributes=attributes).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")  # a session secret per view
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    print(f"partner page on http://127.0.0.1:{PORT}/ embedding {API}")
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
