"""An HTTP endpoint on 127.0.0.1 that records every POST it gets and whether its webhook signature verifies.

The signature is computed here by hand (HMAC-SHA256 over ``timestamp.body``), not with the product's
``shared.webhooks.sign``: a receiver checks what was sent, not what the sender meant to send."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SignedReceiver:
    """Start on construction; ``close`` stops it. ``accepted``: one dict per POST (path, body, event id,
    signed)."""

    def __init__(self, secret: str) -> None:
        self.accepted: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(secret.encode(), self.headers["X-Erasure-Timestamp"].encode()
                                                + b"." + body, hashlib.sha256).hexdigest()
                receiver.accepted.append({"path": self.path, "body": json.loads(body),
                                          "event_id": self.headers["X-Erasure-Event-Id"],
                                          "signed": hmac.compare_digest(self.headers["X-Erasure-Signature"], expected)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
