"""Signed webhooks to downstream systems (CRM, data lake), with a dead-letter list to replay.

Each (request, target) pair is one event with a stable id. A target that keeps failing gets the
event parked in the dead-letter list; ``replay`` sends parked events again and an event that was
delivered once is never delivered again (the delivered set is checked before every send).
Bodies carry ids, outcome and digests only, never personal data.

Every send first asks ``allowed`` whether the target may be sent to now: a global target configured
now, or a per-request callback whose host is on the current allow-list (``shared.callbacks``). A dead
letter or a record in Redis names its target, and whoever can write to Redis could name any URL; such an
event is refused (never signed, never sent) and stays parked for the operator to see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis

from shared.keys import Keys

SIGNATURE_HEADER = "X-Erasure-Signature"
TIMESTAMP_HEADER = "X-Erasure-Timestamp"
EVENT_HEADER = "X-Erasure-Event-Id"


def event_id(request_id: str, target: str) -> str:
    return hashlib.sha256(f"{request_id}|{target}".encode()).hexdigest()[:32]


def target_label(target: str) -> str:
    """How a target appears in certificates and logs: scheme and host only (paths may hold tokens)."""
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "target"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def event_body(certificate: dict[str, Any]) -> dict[str, Any]:
    keep = ("ticket", "request_id", "kind", "subject_digest", "outcome", "completed_at", "deadline_met", "audit_chain_head")
    return {"event": "erasure.final", **{k: certificate.get(k) for k in keep}}


@dataclass
class DeliveryResult:
    delivered: bool
    already: bool = False
    error: str | None = None
    refused: bool = False  # the target is not one this deployment may send to now: nothing was sent


@dataclass(frozen=True)
class ReplayCounts:
    delivered: int
    failing: int
    refused: int = 0


class WebhookSender:
    def __init__(self, client: redis.Redis, keys: Keys, secret: bytes, http: httpx.Client,
                 allowed: Callable[[str], bool]) -> None:
        self._r = client
        self._keys = keys
        self._secret = secret
        self._http = http
        self._allowed = allowed

    def send(self, request_id: str, target: str, body: dict[str, Any]) -> DeliveryResult:
        """One attempt; never raises for the target's failures; refuses a target not allowed now."""
        if not self._allowed(target):
            return DeliveryResult(delivered=False, refused=True, error="target not allowed")
        eid = event_id(request_id, target)
        if self._r.sismember(self._keys.webhook_delivered, eid):
            return DeliveryResult(delivered=True, already=True)
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", EVENT_HEADER: eid, TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(self._secret, timestamp, raw)}
        try:
            response = self._http.post(target, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(delivered=False, error=type(exc).__name__)
        if response.status_code >= 300:
            return DeliveryResult(delivered=False, error=f"HTTP {response.status_code}")
        self._r.sadd(self._keys.webhook_delivered, eid)
        return DeliveryResult(delivered=True)

    def park(self, request_id: str, target: str, body: dict[str, Any], attempts: int, error: str) -> None:
        eid = event_id(request_id, target)
        entry = {"event_id": eid, "request_id": request_id, "target": target,
                 "body": body, "attempts": attempts, "last_error": error}
        self._r.hset(self._keys.webhook_dead_letters, eid, json.dumps(entry))

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self._r.hvals(self._keys.webhook_dead_letters)]

    def replay(self) -> ReplayCounts:
        """Send every parked event again, to targets still allowed; a refused one stays parked as it was."""
        delivered = failing = refused = 0
        for entry in self.dead_letters():
            result = self.send(entry["request_id"], entry["target"], entry["body"])
            if result.refused:
                refused += 1
            elif result.delivered:
                self._r.hdel(self._keys.webhook_dead_letters, entry["event_id"])
                delivered += 1
            else:
                entry["attempts"] += 1
                entry["last_error"] = result.error
                self._r.hset(self._keys.webhook_dead_letters, entry["event_id"], json.dumps(entry))
                failing += 1
        return ReplayCounts(delivered, failing, refused)
