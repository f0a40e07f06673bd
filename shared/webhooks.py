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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook

from shared.final_event import EventRefused, verified_event
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
                 resolve: Resolver, clock: Callable[[], float] = time.time,
                 public_key: Callable[[], Ed25519PublicKey | None] = lambda: None) -> None:
        self._r = client
        self._keys = keys
        self._secret = secret
        self._http = http
        self._resolve = resolve
        self._clock = clock
        self._public_key = public_key  # read at each replay: it sends only events of certificates it verifies

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

    def park(self, request_id: str, target: str, attempts: int, error: str) -> None:
        """Keep the event for ``replay`` under the target's *name* (never its URL), without its body:
        replay rebuilds it from the request's signed certificate."""
        self._store(request_id, target, attempts, error)
        WEBHOOK_DEAD_LETTERS.labels("callback" if target == CALLBACK else "webhook").inc()

    def _store(self, request_id: str, target: str, attempts: int, error: str | None) -> dict[str, Any]:
        msg_id = webhook_id(request_id, target)
        entry: dict[str, Any] = {"webhook_id": msg_id, "request_id": request_id, "target_name": target,
                                 "attempts": attempts, "last_error": error}
        self._r.hset(self._keys.webhook_dead_letters, msg_id, json.dumps(entry))
        return entry

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every parked event. One parked by an older version has ``event_id`` and a ``target`` URL instead
        of a name (and a ``body``, never used); one that cannot be read as a dead letter (bad JSON, missing
        or mistyped fields, an id that is not its own) has its key as ``webhook_id`` and ``malformed``."""
        return [parked.shown() for parked in self._parked()]

    def _parked(self) -> list[Parked]:
        return parked_letters(self._r, self._keys)

    def drop(self, key: str) -> dict[str, Any] | None:
        """Remove one parked event (by its ``webhook_id``, or an old one's ``event_id``); the entry removed
        (as ``dead_letters`` shows it: a malformed one can be dropped too)."""
        raw = self._r.hget(self._keys.webhook_dead_letters, key)
        if raw is None:
            return None
        self._r.hdel(self._keys.webhook_dead_letters, key)
        return parse(key, str(raw)).shown()

    def replay(self, names: Sequence[str] = ()) -> list[ReplayOutcome]:
        """Send every parked event again, to the target its name stands for now, with the body rebuilt from
        the request's certificate once its signature verifies (``shared.final_event.verified_event``): a
        body in the entry is never sent. Refused, not sent and left parked for the operator to see (or
        drop): an entry that is malformed, names a target unknown now, or whose request has no certificate
        or one that does not verify; each refusal is its own, the others are replayed. An old entry (a URL
        instead of a name) is moved to the one of ``names`` whose URL now equals its URL, and otherwise
        refused: a URL from Redis is never sent to as such."""
        outcomes: list[ReplayOutcome] = []
        public_key = self._public_key()
        for parked in self._parked():
            entry = parked.shown()
            if parked.problem is not None:
                outcomes.append(ReplayOutcome(entry, refused=parked.problem))
                continue
            if "target_name" not in entry:
                migrated = self._migrate(parked.key, entry, names)
                if migrated is None:
                    outcomes.append(ReplayOutcome(entry, refused="parked by an older version with a URL that "
                                                                 "is no configured target now"))
                    continue
                entry = migrated
            outcomes.append(self._replay_one(entry, public_key))
        return outcomes

    def _replay_one(self, entry: dict[str, Any], public_key: Ed25519PublicKey | None) -> ReplayOutcome:
        """One well-formed entry (by name): rebuilt, checked, sent; removed once delivered."""
        request_id, target = str(entry["request_id"]), str(entry["target_name"])
        try:
            body = verified_event(self._r, self._keys, request_id, public_key)
        except EventRefused as exc:
            return ReplayOutcome(entry, refused=str(exc))
        result = self.send(request_id, target, body)
        if result.refused:
            return ReplayOutcome(entry, refused=f"target {shown_name(target)!r} is not configured or not allowed now")
        if result.delivered:
            self._r.hdel(self._keys.webhook_dead_letters, webhook_id(request_id, target))
        else:
            entry = self._store(request_id, target, int(entry["attempts"]) + 1, result.error)
        return ReplayOutcome(entry, result=result)

    def _migrate(self, key: str, entry: dict[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
        """An old-shape entry re-parked (without its body) under the name whose URL now equals its URL;
        None if none does."""
        request_id, url = str(entry["request_id"]), str(entry["target"])
        for name in names:
            if self._resolve(request_id, name) == url:
                self._r.hdel(self._keys.webhook_dead_letters, key)
                return self._store(request_id, name, int(entry["attempts"]), entry.get("last_error"))
        return None


@dataclass(frozen=True)
class Parked:
    """One dead letter as read from Redis: its key, what it holds, and why it cannot be replayed (or None)."""

    key: str
    entry: dict[str, Any]
    problem: str | None = None

    def shown(self) -> dict[str, Any]:
        """The entry as listed; a malformed one keyed by its hash key, the key ``drop`` takes."""
        if self.problem is None:
            return dict(self.entry)
        return {**self.entry, "webhook_id": self.key, "malformed": self.problem}


def parked_letters(client: redis.Redis, keys: Keys) -> list[Parked]:
    """Every dead letter as stored (one HGETALL): reading them needs no webhook secret or target."""
    return [parse(str(key), str(raw)) for key, raw in client.hgetall(keys.webhook_dead_letters).items()]


def parse(key: str, raw: str) -> Parked:
    """Read one dead letter without trusting it: anyone with Redis access could have written it."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return Parked(key, {}, "malformed: not a JSON object")
    if not isinstance(entry, dict):
        return Parked(key, {}, "malformed: not a JSON object")
    problem = _problem(key, entry)
    return Parked(key, entry if problem is None else _safe_fields(entry), problem)


def _problem(key: str, entry: dict[str, Any]) -> str | None:
    """Why ``entry`` (parked under ``key``) cannot be replayed as it is, or None."""
    attempts = entry.get("attempts")
    if not isinstance(entry.get("request_id"), str):
        return "malformed: no request id"
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        return "malformed: no count of attempts"
    if "target_name" not in entry:  # an old entry: the URL it was parked with
        return None if isinstance(entry.get("target"), str) else "malformed: no target"
    if not isinstance(entry["target_name"], str):
        return "malformed: no target"
    if key != webhook_id(entry["request_id"], entry["target_name"]):
        return "malformed: its id is not its request's and target's"
    return None


def _safe_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """What a malformed entry may show of itself: strings and ints of the known fields only."""
    return {k: v for k, v in entry.items()
            if k in ("request_id", "target_name", "attempts", "last_error") and isinstance(v, str | int)}
