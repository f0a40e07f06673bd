"""What one benchmark run leaves in Redis: bytes by kind of key (``MEMORY USAGE``), sampled while it runs
for the peak and read once at the end, and which keys of final requests carry no TTL.

Keys are grouped by pattern, ids replaced by placeholders (``{p}:effect:<request_id>:<name>``), so a
result names kinds of key, never a request. The broker's keys (Celery's queues) and the rate limiter's
are counted apart from the request data: they do not grow with the requests kept.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import redis

from shared.keys import Keys

_UUID_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16,}(?![0-9A-Za-z])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TICKET = re.compile(r"(:ticket:).*")
_NUMBER = re.compile(r"(?<=[:\-])\d+(?=$|:)")

#: Why a kind of key outlives its request without a TTL (the README's "Capacity" section says the same).
#: Keys are glob patterns over ``pattern``'s output.
KEPT_WITHOUT_TTL = {
    "{p}:req:<request_id>": "the request's record, scrubbed to digests at final: what `erasure status`, the API "
                            "and a re-issued certificate read",
    "{p}:ticket:<ticket>": "the ticket's idempotency claim: the same ticket sent again is the same request for as "
                           "long as its record is kept",
    "{p}:requests": "the index of requests by time received (one member per kept record)",
    "{p}:summaries": "each kept record's light row (ticket, state, kind, dates, submitter) that lists read "
                     "(the console, `GET /requests`), written with the record and kept as long as it is",
    "{p}:cert:<request_id>*": "the signed certificate of erasure (and any it superseded, and where it was "
                              "delivered): the proof handed to the requester",
    "{p}:effect:<request_id>:*": "the side-effect ledger (intent, then the platform's id): a redelivered, resumed "
                                 "or amended request finds the platform call already made, so a GDPR_DELETE is "
                                 "never sent twice",
    "{p}:gdprindex:*": "the index of the platform's GDPR requests by name (one field per GDPR request made) and "
                       "who created them: finds a GDPR_DELETE whose ledger write Redis lost; safe to delete "
                       "(the next sync rereads the platform)",
    "{p}:audit:*": "the append-only audit chain, its head and signed checkpoints (one key each for all "
                   "requests), and each request's index of its entries (the console's timeline): exported to "
                   "WORM storage by `erasure audit export`",
    "{p}:aof:scrubbed": "one mark: values were scrubbed since Redis last rewrote its append-only file; "
                        "cleared once a rewrite is accepted",
}


def pattern(key: str, prefix: str) -> str:
    """``key`` with the prefix as ``{p}`` and ids as placeholders."""
    root = "{" + prefix + "}"
    if key.startswith(root):
        key = "{p}" + key[len(root):]
    elif key.startswith(f"{prefix}:celery:"):
        key = "<celery>:" + key[len(prefix) + 8:]
    elif key.startswith(f"erasure:rl:{{{prefix}:"):
        key = "erasure:rl:{p:" + key[len(f"erasure:rl:{{{prefix}:"):]
    key = _TICKET.sub(r"\1<ticket>", key)
    key = _UUID_HEX.sub("<request_id>", key)
    key = _UUID.sub("<id>", key)
    key = _HEX.sub("<hex>", key)
    return _NUMBER.sub("<n>", key)


def kind(key: str, prefix: str) -> str:
    """``broker`` (Celery's queues), ``ratelimit`` (the shared bucket) or ``data`` (everything else)."""
    if key.startswith(f"{prefix}:celery:"):
        return "broker"
    if key.startswith("erasure:rl:"):
        return "ratelimit"
    return "data"


def _keys(client: redis.Redis, keys: Keys) -> list[str]:
    found: list[str] = []
    for match in keys.all_patterns:
        found += [k.decode() if isinstance(k, bytes) else str(k) for k in client.scan_iter(match, count=2000)]
    return found


def measure(client: redis.Redis, keys: Keys, chunk: int = 1000) -> dict[str, Any]:
    """Bytes (``MEMORY USAGE``, Redis's default sampling of large lists) and key count by kind and by pattern."""
    by_kind: Counter[str] = Counter()
    by_pattern: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for name, used in _each(client, _keys(client, keys), "MEMORY USAGE", chunk):
        used = int(used or 0)  # gone since the SCAN: counts nothing
        shape = pattern(name, keys.prefix)
        by_kind[kind(name, keys.prefix)] += used
        by_pattern[shape] += used
        count[shape] += 1
    return {"bytes": dict(by_kind), "bytes_by_pattern": dict(by_pattern), "keys_by_pattern": dict(count)}


def keys_without_ttl(client: redis.Redis, keys: Keys, chunk: int = 1000) -> dict[str, int]:
    """Keys that never expire, counted by pattern (the request data only: not the broker's queues)."""
    names = [n for n in _keys(client, keys) if kind(n, keys.prefix) == "data"]
    return dict(Counter(pattern(name, keys.prefix) for name, ttl in _each(client, names, "TTL", chunk) if ttl == -1))


def _each(client: redis.Redis, names: list[str], command: str, chunk: int) -> Iterator[tuple[str, Any]]:
    """``(name, answer)`` of one command (``MEMORY USAGE``, ``TTL``) on every key, pipelined ``chunk`` at a time."""
    for start in range(0, len(names), chunk):
        part = names[start:start + chunk]
        pipe = client.pipeline(transaction=False)
        for name in part:
            pipe.execute_command(*command.split(), name)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        yield from zip(part, pipe.execute(), strict=True)


def audit_size(client: redis.Redis, keys: Keys, chunk: int = 5000) -> tuple[int, int]:
    """(entries, bytes of their stored JSON) of the audit log."""
    length = int(client.llen(keys.audit_log))
    total = 0
    for start in range(0, length, chunk):
        total += sum(len(raw) for raw in client.lrange(keys.audit_log, start, start + chunk - 1))
    return length, total


@dataclass
class Sampler:
    """``measure`` every ``interval_s`` on a thread of its own; ``peak`` keeps the largest data and broker totals."""

    client: redis.Redis
    keys: Keys
    interval_s: float
    peak: dict[str, int] = field(default_factory=dict)
    #: The largest bytes seen per key pattern (each at its own moment).
    peak_by_pattern: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="footprint-sampler")
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self.take()
            if self._stop.wait(self.interval_s):
                return

    def take(self) -> None:
        sample = measure(self.client, self.keys)
        self.samples += 1
        for name, used in sample["bytes"].items():
            self.peak[name] = max(self.peak.get(name, 0), used)
        total = sum(sample["bytes"].values())
        self.peak["total"] = max(self.peak.get("total", 0), total)
        for name, used in sample["bytes_by_pattern"].items():
            self.peak_by_pattern[name] = max(self.peak_by_pattern.get(name, 0), used)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def unexplained(without_ttl: Iterable[str]) -> list[str]:
    """Patterns of keys without a TTL that ``KEPT_WITHOUT_TTL`` gives no reason for."""
    return sorted(p for p in without_ttl if not any(fnmatchcase(p, kept) for kept in KEPT_WITHOUT_TTL))
