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
import secrets
import time
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

#: How long a turn lasts at most (a writer that dies in its turn holds the others up this long), and how
#: long a waiting writer blocks before it asks again (a baton lost with a dead writer), in seconds.
#: A turn can be orphaned: its reply lost after the baton was popped, a soft time limit between the pop and
#: the commit, or the volatile turn or baton key evicted. Nothing then passes the baton on, and the other
#: writers stall until the turn runs out, up to ``_TURN_S``.
_TURN_S = 2.0
_WAIT_S = 0.05
#: How long one append waits for a turn at most before it gives up with ``redis.exceptions.TimeoutError``:
#: the task pipeline keeps the message for redelivery on that, as for Redis being down.
_DEADLINE_S = 30.0
#: How long the mark of a written entry is kept (``Keys.audit_done``), in ms: longer than a connection's
#: retries last (``shared.redis_conn``), so a replayed append still finds it.
_DONE_MS = 60_000

#: Compare-and-append, one writer's turn at a time. KEYS: the head, the log, the turn, the baton, the mark
#: of the entry written (``Keys.audit_done`` of its new head), and (an entry about a request, always last)
#: the request's index of entries; ARGV: the head the entry was built on ("" for none), the entry, its new
#: head, the writer's turn token ("" for none), the turn's length in ms, a fresh random token, the entry's
#: seq (what the request's index holds), how long the mark is kept in ms. The writer may append when it
#: holds the turn, when no one does, or (without a token) when the last turn's baton lies unclaimed, which
#: it then takes; the entry is written only if the head is still the one it was built on. Then the turn
#: passes on: a new baton naming the head Redis now holds, which one waiting writer takes. Answers
#: {1, new head, 0} when written, {0, the head it holds, 0} when the head had moved, {0, the head, 1}
#: during another writer's turn. Idempotent: the same call run again (its reply was lost and the
#: connection retried it, ``shared.redis_conn``) finds the mark and answers {1, new head, 0} without
#: writing the entry twice; the entry's new head holds its hash, so no other entry has the same mark.
#: The entry's HMAC stays with the caller: the key never reaches Redis. All keys
#: share the prefix's hash tag (``shared.keys``), so this runs on Redis Cluster.
_APPEND = """
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {1, ARGV[3], 0}
end
local turn = redis.call('GET', KEYS[3])
local head = redis.call('GET', KEYS[1]) or ''
local mine = (not turn) or turn == ARGV[4]
if not mine and ARGV[4] == '' and head == ARGV[1] and redis.call('LINDEX', KEYS[4], 0) == turn then
  redis.call('LPOP', KEYS[4])
  mine = true
end
if not mine then
  return {0, head, 1}
end
local written = 0
if head == ARGV[1] then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[5], '1', 'PX', ARGV[8])
  if KEYS[6] then
    redis.call('RPUSH', KEYS[6], ARGV[7])
  end
  head, written = ARGV[3], 1
end
local baton = head .. '|' .. ARGV[6]
redis.call('SET', KEYS[3], baton, 'PX', ARGV[5])
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[4], baton)
redis.call('PEXPIRE', KEYS[4], ARGV[5])
return {written, head, 0}
"""

#: Take a turn: the unclaimed baton, or a turn nobody holds (none yet, or the last ran out with its
#: writer). KEYS: the turn, the head, the baton; ARGV: a fresh token, the turn's length in ms. Answers
#: {1, the head, the token} when taken, {0} when another writer holds the turn.
_TAKE_TURN = """
local baton = redis.call('LPOP', KEYS[3])
if baton then
  return {1, string.match(baton, '^(.*)|') or '', baton}
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[2]) or '', ARGV[1]}
end
return {0}
"""

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
        #: Entries built again because Redis refused one: another writer had moved the head first, or held
        #: the turn (contention on the one head).
        self.retries = 0
        #: The head after this process's last append: the next one is built on it without reading it (a
        #: stale one costs one refused attempt, after which the writer waits for its turn).
        self._last_head: str | None = None
        #: Polls for the baton that came back empty, each after blocking up to ``_WAIT_S``: how long this
        #: process waited for turns, in units of ``_WAIT_S``.
        self.waits = 0
        #: Set when this process's last append met another writer: the next one waits for its turn at once
        #: instead of building an entry on a head that has most likely moved. Dropped once this process has
        #: not appended for a turn's length: the turn it met has run out since.
        self._contended = False
        #: When this process last appended (``time.monotonic``).
        self._last_append_at = 0.0
        self._append_script = client.register_script(_APPEND)
        self._take_turn = client.register_script(_TAKE_TURN)

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
        """Append one entry atomically, after the head Redis holds (``_APPEND``, a compare-and-append).

        Built on the head this process last wrote, without reading it: one round trip while no other writer
        moved it. Once another has, writers take turns: each append passes a *baton* naming the new head,
        which the next writer takes (``_TAKE_TURN``, or BLPOP: blocked, not spinning, while another's turn
        lasts), so the entry it builds on that head is not refused. Under WATCH every writer rebuilt its
        entry whenever any other won the race, so with 16 writers on two cores most entries were built for
        nothing (``bench/results/audit.json``). Safe across a worker's threads: Redis decides every append."""
        key = self.key
        # Callers pass ids and counts; the scrubber is the net under that rule.
        scrubbed = scrub_data(dict(details or {}))

        def build(head: str | None) -> dict[str, Any]:
            seq, prev = (0, GENESIS) if not head else _split_head(head)
            body: dict[str, Any] = {"v": KEYED, "seq": seq + 1, "ts": utcnow().isoformat(), "event": event,
                                    "request_id": request_id, "subject": subject, "details": scrubbed, "prev": prev}
            return {**body, "hash": _entry_hash(body, key)}

        deadline = time.monotonic() + _DEADLINE_S
        if self._contended and time.monotonic() - self._last_append_at > _TURN_S:
            self._contended = False
        if self._last_head is not None and not self._contended:
            entry = build(self._last_head)
            if self._commit(self._last_head, entry, "")[0]:
                return self._written(entry)
            self.retries += 1
            self._contended = True
        while True:
            head, token, waited = self._wait_for_turn(deadline)
            self._contended = waited
            entry = build(head)
            if self._commit(head, entry, token)[0]:
                return self._written(entry)
            self.retries += 1  # the turn ran out before the entry was written
            _check_deadline(deadline)

    def _wait_for_turn(self, deadline: float) -> tuple[str | None, str, bool]:
        """Block until this writer holds a turn: (the head to build on, the turn's token, whether another
        writer held the turn meanwhile). A writer that met others last time blocks for the baton first (one
        round trip fewer per append while writers queue); else it asks for the turn first (the baton may have
        expired with the last one). A baton poll that times out is not meeting another writer: the baton may
        just have expired, and ``_TAKE_TURN`` tells which. Past ``deadline``: ``redis.exceptions.TimeoutError``."""
        waited = False
        block_first = self._contended
        while True:
            if not block_first:
                taken = self._take_turn(keys=[self._keys.audit_turn, self._keys.audit_head, self._keys.audit_baton],
                                        args=[secrets.token_hex(8), int(_TURN_S * 1000)])
                if int(taken[0]):
                    return _text(taken[1]) or None, _text(taken[2]), waited
                waited = True  # another writer holds the turn
                _check_deadline(deadline)
            block_first = False
            popped = self._r.blpop([self._keys.audit_baton], timeout=_WAIT_S)
            if popped is not None:
                token = _text(popped[1])
                head = token.rpartition("|")[0] or None
                # Its own last head: nobody appended since, so the next append may go the short way again.
                return head, token, waited or head != self._last_head
            self.waits += 1

    def _commit(self, expected: str | None, entry: Mapping[str, Any], token: str) -> tuple[bool, str, bool]:
        """Run ``_APPEND``: (written, the head Redis holds, refused because another writer holds the turn)."""
        new_head = f"{entry['seq']}:{entry['hash']}"
        keys = [self._keys.audit_head, self._keys.audit_log, self._keys.audit_turn, self._keys.audit_baton,
                self._keys.audit_done(new_head)]
        if entry.get("request_id") is not None:  # indexed by request in the same script (``entries_of``)
            keys.append(self._keys.audit_of_request(str(entry["request_id"])))
        written, current, busy = self._append_script(
            keys=keys,
            args=[expected or "", json.dumps(entry, sort_keys=True, default=str), new_head,
                  token, int(_TURN_S * 1000), secrets.token_hex(8), entry["seq"], _DONE_MS])
        return bool(int(written)), _text(current), bool(int(busy))

    def _written(self, entry: dict[str, Any]) -> dict[str, Any]:
        self._last_head = f"{entry['seq']}:{entry['hash']}"
        self._last_append_at = time.monotonic()
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


def _check_deadline(deadline: float) -> None:
    """Give up waiting for a turn past ``deadline`` (``time.monotonic``): the task is redelivered later."""
    if time.monotonic() > deadline:
        raise redis.exceptions.TimeoutError(f"audit append: no turn within {_DEADLINE_S:g} s")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
