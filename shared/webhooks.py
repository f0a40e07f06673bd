"""Final events to downstream systems (CRM, data lake) as Standard Webhooks, with a dead-letter list to replay.

Every POST carries the spec's three headers (https://www.standardwebhooks.com): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``),
computed by the ``standardwebhooks`` package that receivers verify with. The id is stable per event
(request id and target name), so a receiver dedupes retries and replays by it; the timestamp is the time
of each send, so a receiver refuses a captured POST re-sent after its tolerance window (5 minutes).

A target is named, never stored as a URL: a global target by its name in ERASURE_WEBHOOK_TARGETS, a
request's own callback as ``callback`` (its URL read from the record). The URL is resolved at each send
from the configuration of now (``resolve``), so a dead letter, which anyone with Redis access could
write, can only name a target configured now; one naming anything else is refused: never signed, never
sent, left parked for the operator to see. Bodies carry ids, outcome and digests only, never personal data.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from standardwebhooks import Webhook

from shared.keys import Keys
from shared.metrics import WEBHOOK_DEAD_LETTERS

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
#: The name of a request's own callback URL among the targets (never a global target's name).
CALLBACK = "callback"

#: ``resolve(request_id, name)``: the URL that target name stands for now, or None (unknown, not allowed).
Resolver = Callable[[str, str], "str | None"]


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def shown_name(target: str) -> str:
    """A target name as logs and audit entries show it; anything not shaped like a name (a URL from a
    forged message or dead letter, which may hold a token) is not repeated."""
    return target if _NAME.fullmatch(target) else "(not a target name)"


def webhook_id(request_id: str, target: str) -> str:
    """The event's id for one target: the same on every retry and replay, different per target."""
    return "evt_" + hashlib.sha256(f"{request_id}|{target}".encode()).hexdigest()[:32]


def target_label(target: str) -> str:
    """How a target appears in certificates and logs: scheme and host only (paths may hold tokens)."""
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "target"


def signed_headers(secret: bytes, msg_id: str, timestamp: int, raw: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one send (signed by the package receivers verify with)."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), raw.decode())
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}


def event_body(certificate: dict[str, Any]) -> dict[str, Any]:
    keep = ("ticket", "request_id", "kind", "subject_digest", "outcome", "completed_at", "deadline_met", "audit_chain_head")
    return {"event": "erasure.final", **{k: certificate.get(k) for k in keep}}


@dataclass
class DeliveryResult:
    delivered: bool
    already: bool = False
    error: str | None = None
    refused: bool = False  # the target is not one this deployment may send to now: nothing was sent
    url: str | None = None  # what the target name resolved to (for the certificate's host label)


@dataclass(frozen=True)
class ReplayOutcome:
    """One parked event after a replay: ``result`` of the send, or ``refused`` with the reason (no URL in it)."""

    entry: dict[str, Any]
    result: DeliveryResult | None = None
    refused: str | None = None


class WebhookSender:
    def __init__(self, client: redis.Redis, keys: Keys, secret: bytes, http: httpx.Client,
                 resolve: Resolver, clock: Callable[[], float] = time.time) -> None:
        self._r = client
        self._keys = keys
        self._secret = secret
        self._http = http
        self._resolve = resolve
        self._clock = clock

    def send(self, request_id: str, target: str, body: dict[str, Any]) -> DeliveryResult:
        """One attempt to the target named ``target``; never raises for the target's failures; refuses
        a name that resolves to nothing now (unknown, or a callback the allow-list no longer accepts)."""
        url = self._resolve(request_id, target)
        if url is None:
            return DeliveryResult(delivered=False, refused=True, error="target not configured or not allowed now")
        msg_id = webhook_id(request_id, target)
        if self._r.sismember(self._keys.webhook_delivered, msg_id):
            return DeliveryResult(delivered=True, already=True, url=url)
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(self._secret, msg_id, int(self._clock()), raw)}
        try:
            response = self._http.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(delivered=False, error=type(exc).__name__, url=url)
        if response.status_code >= 300:
            return DeliveryResult(delivered=False, error=f"HTTP {response.status_code}", url=url)
        self._r.sadd(self._keys.webhook_delivered, msg_id)
        return DeliveryResult(delivered=True, url=url)

    def park(self, request_id: str, target: str, body: dict[str, Any], attempts: int, error: str) -> None:
        """Keep the event for ``replay`` under the target's *name* (never its URL)."""
        msg_id = webhook_id(request_id, target)
        entry = {"webhook_id": msg_id, "request_id": request_id, "target_name": target,
                 "body": body, "attempts": attempts, "last_error": error}
        self._r.hset(self._keys.webhook_dead_letters, msg_id, json.dumps(entry))
        WEBHOOK_DEAD_LETTERS.labels("callback" if target == CALLBACK else "webhook").inc()

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every parked event; one parked by an older version has ``event_id`` and a ``target`` URL instead."""
        return [json.loads(v) for v in self._r.hvals(self._keys.webhook_dead_letters)]

    def drop(self, key: str) -> dict[str, Any] | None:
        """Remove one parked event (by its ``webhook_id``, or an old one's ``event_id``); the entry removed."""
        raw = self._r.hget(self._keys.webhook_dead_letters, key)
        if raw is None:
            return None
        self._r.hdel(self._keys.webhook_dead_letters, key)
        return dict(json.loads(raw))

    def replay(self, names: Sequence[str] = ()) -> list[ReplayOutcome]:
        """Send every parked event again, to the target its name stands for now. A name unknown now is
        refused and stays parked. An old entry (a URL instead of a name) is moved to the one of ``names``
        whose URL now equals its URL, and otherwise refused: a URL from Redis is never sent to as such."""
        outcomes: list[ReplayOutcome] = []
        for entry in self.dead_letters():
            if "target_name" not in entry:
                migrated = self._migrate(entry, names)
                if migrated is None:
                    outcomes.append(ReplayOutcome(entry, refused="parked by an older version with a URL that "
                                                                 "is no configured target now"))
                    continue
                entry = migrated
            result = self.send(entry["request_id"], entry["target_name"], entry["body"])
            if result.refused:
                outcomes.append(ReplayOutcome(entry, refused=f"target {entry['target_name']!r} is not "
                                                             "configured or not allowed now"))
                continue
            if result.delivered:
                self._r.hdel(self._keys.webhook_dead_letters, entry["webhook_id"])
            else:
                entry["attempts"] += 1
                entry["last_error"] = result.error
                self._r.hset(self._keys.webhook_dead_letters, entry["webhook_id"], json.dumps(entry))
            outcomes.append(ReplayOutcome(entry, result=result))
        return outcomes

    def _migrate(self, entry: dict[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
        """An old-shape entry re-parked under the name whose URL now equals its URL; None if none does."""
        request_id, url = str(entry.get("request_id")), entry.get("target")
        for name in names:
            if url is not None and self._resolve(request_id, name) == url:
                self._r.hdel(self._keys.webhook_dead_letters, str(entry.get("event_id")))
                self.park(request_id, name, entry["body"], int(entry.get("attempts", 0)), str(entry.get("last_error")))
                return {"webhook_id": webhook_id(request_id, name), "request_id": request_id, "target_name": name,
                        "body": entry["body"], "attempts": int(entry.get("attempts", 0)),
                        "last_error": entry.get("last_error")}
        return None
