"""An HTTP endpoint on 127.0.0.1 that receives our webhooks the way a downstream system is told to: it
verifies each POST with the ``standardwebhooks`` package (``Webhook(secret).verify(body, headers)``: the
signature over ``webhook-id.webhook-timestamp.body`` and the 5-minute tolerance window) and dedupes by
``webhook-id``. Nothing of the product's own signing is used here: a receiver checks what was sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class SignedReceiver:
    """Start on construction; ``close`` stops it.

    ``received``: every POST that arrived (path, headers, raw body). ``accepted``: the verified events, one
    per webhook id (path, body, webhook_id, timestamp). ``duplicates``: verified POSTs of an id already
    accepted (answered 204, not processed again). ``refused``: POSTs that failed verification, with the
    library's reason (answered 400). While ``down`` is true every POST is answered 503 (``failures``)."""

    def __init__(self, secret: str) -> None:
        self.received: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.duplicates: list[str] = []
        self.refused: list[str] = []
        self.down = False
        self.failures = 0
        webhook = Webhook(secret)
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with lock:
                    receiver.received.append({"path": self.path, "headers": headers, "raw": body})
                    status = receiver._handle(webhook, self.path, headers, body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, webhook: Webhook, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.down:
            self.failures += 1
            return 503
        try:
            event = webhook.verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return 400
        if any(a["webhook_id"] == headers["webhook-id"] for a in self.accepted):
            self.duplicates.append(headers["webhook-id"])
            return 204
        self.accepted.append({"path": path, "body": event, "webhook_id": headers["webhook-id"],
                              "timestamp": int(headers["webhook-timestamp"])})
        return 204

    def close(self) -> None:
        self.server.shutdown()
