"""Append-only, hash-chained audit log in Redis.

Each entry carries the hash of the one before it, so editing, removing or reordering any entry
breaks every hash after it; ``verify_chain`` names the first entry that no longer fits.
Subjects appear only as keyed digests (``shared.digest``); callers pass ids and counts, never values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from shared.keys import Keys
from shared.models import utcnow
from shared.pii.logging import scrub_data

GENESIS = "0" * 64


def _entry_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


class AuditLog:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys

    def append(
        self,
        event: str,
        *,
        request_id: str | None = None,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry atomically (optimistic transaction on the chain head)."""
        while True:
            with self._r.pipeline() as pipe:
                try:
                    pipe.watch(self._keys.audit_head)  # type: ignore[no-untyped-call]
                    head = pipe.get(self._keys.audit_head)
                    seq, prev = (0, GENESIS) if head is None else _split_head(str(head))
                    body: dict[str, Any] = {
                        "seq": seq + 1,
                        "ts": utcnow().isoformat(),
                        "event": event,
                        "request_id": request_id,
                        "subject": subject,
                        # Callers pass ids and counts; the scrubber is the net under that rule.
                        "details": scrub_data(dict(details or {})),
                        "prev": prev,
                    }
                    entry = {**body, "hash": _entry_hash(body)}
                    pipe.multi()
                    pipe.rpush(self._keys.audit_log, json.dumps(entry, sort_keys=True, default=str))
                    pipe.set(self._keys.audit_head, f"{entry['seq']}:{entry['hash']}")
                    pipe.execute()
                    return entry
                except redis.WatchError:
                    continue

    def head(self) -> str | None:
        head = self._r.get(self._keys.audit_head)
        return None if head is None else _split_head(str(head))[1]

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self._r.lrange(self._keys.audit_log, 0, -1)]

    def entries_for(self, request_id: str) -> list[dict[str, Any]]:
        return [e for e in self.entries() if e.get("request_id") == request_id]


def _split_head(head: str) -> tuple[int, str]:
    seq, _, digest = head.partition(":")
    return int(seq), digest


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> ChainProblem | None:
    """Return the first entry that breaks the chain, or None when the whole chain holds."""
    prev = GENESIS
    expected_seq = 1
    for position, entry in enumerate(entries, start=1):
        seq = int(entry.get("seq", -1))
        body = {k: v for k, v in entry.items() if k != "hash"}
        if seq != expected_seq:
            return ChainProblem(position, f"entry {position} has seq {seq}, expected {expected_seq}")
        if entry.get("prev") != prev:
            return ChainProblem(seq, f"entry {seq} does not follow the entry before it (removed or reordered)")
        if _entry_hash(body) != entry.get("hash"):
            return ChainProblem(seq, f"entry {seq} was edited: its hash does not match its content")
        prev = str(entry["hash"])
        expected_seq += 1
    return None
