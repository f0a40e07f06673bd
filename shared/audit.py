"""Append-only, hash-chained audit log in Redis, keyed so that a Redis writer cannot recompute it.

Each entry carries the hash of the one before it, so editing, removing or reordering any entry
breaks every hash after it; ``verify_chain`` names the first entry that no longer fits. The hash is an
HMAC-SHA256 under the audit key (``audit_key``: derived from ``ERASURE_HMAC_KEY``, never in Redis), so
whoever can write to Redis but holds no key cannot edit an entry and recompute the hashes after it.
Entries of version 1 (plain SHA-256, written before the key) are still read, but only before the first
keyed entry: an unkeyed entry after a keyed one is a rewrite.

The chain alone cannot show entries cut off its end (what is left is still a valid chain), so the stored
head, ``"<seq>:<hash>"`` of the last entry, is checked too (``AuditLog.verify``); the head is in Redis as
well, so signed checkpoints (``shared.audit_checkpoints``) anchor it where a Redis writer cannot follow.
Subjects appear only as keyed digests (``shared.digest``); callers pass ids and counts, never values.

Each entry about a request is also indexed by request (its ``seq``, in the same transaction), so one
request's history is read without reading the whole log (``entries_of``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from shared.keys import Keys
from shared.models import utcnow
from shared.pii.logging import scrub_data

GENESIS = "0" * 64
_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")
#: The entry version whose hash is keyed (HMAC-SHA256 under the audit key); entries without ``v`` are
#: version 1, plain SHA-256, written before the key.
KEYED = 2
#: Domain separation: the audit key is never the digest key itself, and knowing it reveals nothing of it.
_AUDIT_KEY_LABEL = b"erasure/audit-chain/v1"

log = logging.getLogger("erasure.audit")

#: What writes a signed checkpoint of one entry (``seq``, ``hash``); ``AuditLog`` calls it every N appends.
Checkpointer = Callable[[int, str], object]


def audit_key(hmac_key: bytes) -> bytes:
    """The key of the chain's HMAC, derived from the deployment's ``ERASURE_HMAC_KEY``: every process
    that appends already holds that key, and a derived key can be handed to an auditor without the
    digest key (which would let them test guessed identifiers against subject digests)."""
    return hmac.new(hmac_key, _AUDIT_KEY_LABEL, hashlib.sha256).digest()


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _entry_hash(body: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the canonical body for a keyed entry, SHA-256 for a version 1 entry."""
    if body.get("v") == KEYED:
        return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on the stored log: how many entries it holds and the first problem, if any."""

    entries: int
    problem: ChainProblem | None
    #: Version 1 entries (plain SHA-256, written before the audit key): only checkpoints and certificates
    #: issued after them protect them against a rewrite.
    unkeyed: int = 0


class AuditLog:
    """``key``: the audit key, or what reads it when first needed (a process that never appends, a
    ``status`` command, needs no key). ``checkpoint_every``: every Nth entry is checkpointed by
    ``checkpointer`` right after it is written, so a bulk run adds one Redis write per N appends."""

    def __init__(self, client: redis.Redis, keys: Keys, key: bytes | Callable[[], bytes], *,
                 checkpoint_every: int = 0, checkpointer: Checkpointer | None = None) -> None:
        self._r = client
        self._keys = keys
        self._key_source = key
        self._key: bytes | None = key if isinstance(key, bytes) else None
        self._checkpoint_every = checkpoint_every
        self.checkpointer = checkpointer

    @property
    def key(self) -> bytes:
        if self._key is None:
            assert not isinstance(self._key_source, bytes)
            self._key = self._key_source()
        return self._key

    def append(
        self,
        event: str,
        *,
        request_id: str | None = None,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry atomically (optimistic transaction on the chain head)."""
        key = self.key
        while True:
            with self._r.pipeline() as pipe:
                try:
                    pipe.watch(self._keys.audit_head)  # type: ignore[no-untyped-call]
                    head = pipe.get(self._keys.audit_head)
                    seq, prev = (0, GENESIS) if head is None else _split_head(str(head))
                    body: dict[str, Any] = {
                        "v": KEYED,
                        "seq": seq + 1,
                        "ts": utcnow().isoformat(),
                        "event": event,
                        "request_id": request_id,
                        "subject": subject,
                        # Callers pass ids and counts; the scrubber is the net under that rule.
                        "details": scrub_data(dict(details or {})),
                        "prev": prev,
                    }
                    entry = {**body, "hash": _entry_hash(body, key)}
                    pipe.multi()
                    pipe.rpush(self._keys.audit_log, json.dumps(entry, sort_keys=True, default=str))
                    pipe.set(self._keys.audit_head, f"{entry['seq']}:{entry['hash']}")
                    if request_id is not None:
                        pipe.rpush(self._keys.audit_of_request(request_id), entry["seq"])
                    pipe.execute()
                except redis.WatchError:
                    continue
            self._maybe_checkpoint(entry)
            return entry

    def _maybe_checkpoint(self, entry: Mapping[str, Any]) -> None:
        """Checkpoint every Nth entry. The entry is written already: a checkpoint that fails is logged
        (the next one, or the next certificate's, anchors the chain), never turned into a failed action."""
        if self.checkpointer is None or self._checkpoint_every <= 0 or entry["seq"] % self._checkpoint_every:
            return
        try:
            self.checkpointer(int(entry["seq"]), str(entry["hash"]))
        except Exception as exc:
            log.warning("audit checkpoint at entry %d not written (%s)", entry["seq"], type(exc).__name__,
                        exc_info=not isinstance(exc, redis.RedisError))

    def head_position(self) -> tuple[int, str] | None:
        """The stored head as (seq, hash); None for an empty log."""
        head = self._r.get(self._keys.audit_head)
        return None if head is None else _split_head(str(head))

    def head(self) -> str | None:
        head = self._r.get(self._keys.audit_head)
        return None if head is None else _split_head(str(head))[1]

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self._r.lrange(self._keys.audit_log, 0, -1)]

    def entries_for(self, request_id: str) -> list[dict[str, Any]]:
        return [e for e in self.entries() if e.get("request_id") == request_id]

    def entries_of(self, request_id: str, received_at: datetime) -> list[dict[str, Any]] | None:
        """The entries about one request, from its index (two round trips, whatever the log's length); None
        when the index cannot vouch for them all: the request was received before entries were indexed (the
        store marks when that began: ``Keys.audit_indexed_since``), or an indexed position does not hold
        that entry. The caller then reads ``entries_for``."""
        with self._r.pipeline(transaction=False) as pipe:
            pipe.lrange(self._keys.audit_of_request(request_id), 0, -1)
            pipe.get(self._keys.audit_indexed_since)
            seqs, since = pipe.execute()
        if since is None or received_at < datetime.fromisoformat(str(since)):
            return None
        wanted = [int(seq) for seq in seqs]
        if not wanted:
            return []
        with self._r.pipeline(transaction=False) as pipe:
            for seq in wanted:
                pipe.lindex(self._keys.audit_log, seq - 1)
            raws = pipe.execute()
        entries = [json.loads(raw) if raw is not None else None for raw in raws]
        if any(e is None or e.get("seq") != seq or e.get("request_id") != request_id
               for e, seq in zip(entries, wanted, strict=True)):
            return None
        return [e for e in entries if e is not None]

    def snapshot(self) -> tuple[list[dict[str, Any]], str | None]:
        """The entries and the stored head, read in one transaction: an append in between cannot look like
        entries cut off or written past the head."""
        with self._r.pipeline(transaction=True) as pipe:
            pipe.lrange(self._keys.audit_log, 0, -1)
            pipe.get(self._keys.audit_head)
            raw_entries, head = pipe.execute()
        return [json.loads(raw) for raw in raw_entries], None if head is None else str(head)

    def verify(self) -> ChainCheck:
        """Verify the stored list against the stored head (read together, ``snapshot``)."""
        entries, head = self.snapshot()
        return self.check(entries, head)

    def check(self, entries: list[dict[str, Any]], head: str | None) -> ChainCheck:
        """The verdict on ``entries`` and ``head`` as ``snapshot`` read them."""
        if head is None:
            problem = None if not entries else ChainProblem(
                1, f"entry 1 has no stored head to end at: the head was deleted but the log holds {len(entries)} entries")
        else:
            problem = verify_chain(entries, head=str(head), key=self.key)
        return ChainCheck(len(entries), problem, unkeyed(entries))


def unkeyed(entries: Iterable[Mapping[str, Any]]) -> int:
    return sum(1 for entry in entries if entry.get("v") != KEYED)


def leading_unkeyed(entries: Iterable[Mapping[str, Any]]) -> int:
    """How many entries from entry 1 on are unkeyed (``entries``: the log from entry 1): the number a
    checkpoint or an export pins (``shared.audit_checkpoints``)."""
    count = 0
    for entry in entries:
        if entry.get("v") == KEYED:
            break
        count += 1
    return count


def stored_unkeyed_prefix(client: redis.Redis, keys: Keys, upper: int | None = None) -> int:
    """``leading_unkeyed`` of the stored log in O(log n) reads: bisection for the first keyed entry. Why it
    may bisect: in a chain that verifies unkeyed entries come only before keyed ones, and every append is
    keyed, so once a keyed entry exists this number never grows. A garbled entry counts as unkeyed.
    With ``upper``, at most that: only the first ``upper`` entries are looked at (none for 0)."""
    length = int(client.llen(keys.audit_log))
    low, high = 0, length if upper is None else min(length, upper)
    while low < high:
        middle = (low + high) // 2
        raw = client.lindex(keys.audit_log, middle)
        try:
            keyed = raw is not None and json.loads(str(raw)).get("v") == KEYED
        except (ValueError, AttributeError):
            keyed = False
        if keyed:
            high = middle
        else:
            low = middle + 1
    return low


def _split_head(head: str) -> tuple[int, str]:
    seq, _, digest = head.partition(":")
    return int(seq), digest


def parse_head(head: str) -> tuple[int, str]:
    """A head as ``AuditLog.append`` stores it, ``"<seq>:<hash>"``; ValueError for anything else."""
    match = _HEAD.fullmatch(head)
    if match is None:
        raise ValueError("an audit head is SEQ:HASH, the last entry's seq and its 64 hex digit hash")
    return int(match.group(1)), match.group(2)


def verify_chain(entries: Iterable[Mapping[str, Any]], head: str | None = None, *, key: bytes | None,
                 after: tuple[int, str] = (0, GENESIS)) -> ChainProblem | None:
    """Return the first entry that breaks the chain, or None when the whole chain holds.

    With ``head`` (the stored ``"<seq>:<hash>"``) the chain must also end at that entry: without it,
    entries cut off the end leave a chain that still holds. ``key``: the audit key (``audit_key``); None
    checks seq and links only (an export whose bytes a signed manifest vouches for). ``after``: the seq and
    hash of the entry before the first one given (an export that starts past entry 1).
    """
    prev = after[1]
    expected_seq = after[0] + 1
    keyed = False
    for entry in entries:
        seq = entry.get("seq")  # compared as stored: a missing or non-numeric seq is named, not a crash
        body = {k: v for k, v in entry.items() if k != "hash"}
        if seq != expected_seq:
            return ChainProblem(expected_seq, f"entry {expected_seq} has seq {seq}, expected {expected_seq}")
        if entry.get("prev") != prev:
            return ChainProblem(expected_seq, f"entry {expected_seq} does not follow the entry before it (removed or reordered)")
        if keyed and entry.get("v") != KEYED:
            return ChainProblem(expected_seq, f"entry {expected_seq} was rewritten: it is unkeyed after keyed entries")
        keyed = entry.get("v") == KEYED
        if key is not None and not hmac.compare_digest(_entry_hash(body, key), str(entry.get("hash"))):
            return ChainProblem(expected_seq, f"entry {expected_seq} was edited: its hash does not match its content "
                                              "under the audit key (edited or rewritten, or another ERASURE_HMAC_KEY)")
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
