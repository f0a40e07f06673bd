"""Append-only, hash-chained audit log in Redis.

Each entry carries the hash of the one before it, so editing, removing or reordering any entry
breaks every hash after it; ``verify_chain`` names the first entry that no longer fits. The chain
alone cannot show entries cut off its end (what is left is still a valid chain), so the stored head,
``"<seq>:<hash>"`` of the last entry, is checked too: ``AuditLog.verify`` reads both together.
Subjects appear only as keyed digests (``shared.digest``); callers pass ids and counts, never values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from shared.keys import Keys
from shared.models import utcnow
from shared.pii.logging import scrub_data

GENESIS = "0" * 64
_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


def _entry_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on the stored log: how many entries it holds and the first problem, if any."""

    entries: int
    problem: ChainProblem | None


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

    def verify(self) -> ChainCheck:
        """Verify the stored list against the stored head. Both are read in one transaction, so an
        append in between cannot look like entries cut off or written past the head."""
        with self._r.pipeline(transaction=True) as pipe:
            pipe.lrange(self._keys.audit_log, 0, -1)
            pipe.get(self._keys.audit_head)
            raw_entries, head = pipe.execute()
        entries = [json.loads(raw) for raw in raw_entries]
        if head is None:
            problem = None if not entries else ChainProblem(
                1, f"entry 1 has no stored head to end at: the head was deleted but the log holds {len(entries)} entries")
        else:
            problem = verify_chain(entries, head=str(head))
        return ChainCheck(len(entries), problem)


def _split_head(head: str) -> tuple[int, str]:
    seq, _, digest = head.partition(":")
    return int(seq), digest


def parse_head(head: str) -> tuple[int, str]:
    """A head as ``AuditLog.append`` stores it, ``"<seq>:<hash>"``; ValueError for anything else."""
    match = _HEAD.fullmatch(head)
    if match is None:
        raise ValueError("an audit head is SEQ:HASH, the last entry's seq and its 64 hex digit hash")
    return int(match.group(1)), match.group(2)


def verify_chain(entries: Iterable[Mapping[str, Any]], head: str | None = None) -> ChainProblem | None:
    """Return the first entry that breaks the chain, or None when the whole chain holds.

    With ``head`` (the stored ``"<seq>:<hash>"``) the chain must also end at that entry: without it,
    entries cut off the end leave a chain that still holds.
    """
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        seq = entry.get("seq")  # compared as stored: a missing or non-numeric seq is named, not a crash
        body = {k: v for k, v in entry.items() if k != "hash"}
        if seq != expected_seq:
            return ChainProblem(expected_seq, f"entry {expected_seq} has seq {seq}, expected {expected_seq}")
        if entry.get("prev") != prev:
            return ChainProblem(expected_seq, f"entry {expected_seq} does not follow the entry before it (removed or reordered)")
        if _entry_hash(body) != entry.get("hash"):
            return ChainProblem(expected_seq, f"entry {expected_seq} was edited: its hash does not match its content")
        prev = str(entry["hash"])
        expected_seq += 1
    return None if head is None else _check_head(expected_seq - 1, prev, head)


def _check_head(last_seq: int, last_hash: str, head: str) -> ChainProblem | None:
    """Compare the end of an intact chain with the stored head."""
    head_seq, head_hash = parse_head(head)
    if last_seq < head_seq:
        return ChainProblem(last_seq + 1, f"entry {last_seq + 1} is missing: the log ends at entry {last_seq} but the "
                                          f"stored head is entry {head_seq} (entries cut off the end)")
    if last_seq > head_seq:
        return ChainProblem(head_seq + 1, f"entry {head_seq + 1} lies past the stored head, entry {head_seq} "
                                          "(written outside the log, or the head replaced)")
    if last_hash != head_hash:
        return ChainProblem(last_seq, f"entry {last_seq} does not match the stored head: the log was rewritten "
                                      "(or the head replaced)")
    return None
