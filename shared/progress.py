"""When each open request last made progress: the index the watchdog (``services.watchdog``) reads.

A sorted set in Redis, member = request id, score = the time (epoch seconds) something last happened
to the request. Two things count as progress:
- a write of the request (``RequestStore``, in the same transaction as the write, so the index never
  disagrees with the state it describes);
- a task loading the request to work on it (``pipeline.load``): a task that defers (a countdown, a
  backoff) loads it again when it runs, so a request that is only waiting is touched in time.

A request that needs nobody leaves the index (see ``needs_watching``). The score is the time of the
progress, not a deadline, so how long is too long lives in one place (``Settings.stall_after_s``)
and changing it needs no re-indexing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import redis

from shared.keys import Keys
from shared.models import ErasureRecord, RequestState

# For each candidate id (ARGV[3..], its lock in KEYS[2..]): if it is still overdue (score <= ARGV[1]),
# mark it as seen now (ARGV[2]) and answer its old score and whether its lock is held. Atomic, so two
# passes at once (two workers, a worker and `erasure watchdog`) never both claim one stall.
_CLAIM = """
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    local busy = redis.call('EXISTS', KEYS[i - 1])
    table.insert(out, id)
    table.insert(out, score)
    table.insert(out, tostring(busy))
  end
end
return out
"""


_DROP = """
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 0
"""


def needs_watching(record: ErasureRecord) -> bool:
    """Whether something still has to happen to the request without a person acting.

    Not watched: a final request whose identifiers are scrubbed (its certificate, when it gets one, is
    issued before the scrub), a HELD one (waits for its legal hold to end: ``erasure release-held``)
    and one waiting at the approval gate with no approval (waits for ``erasure approve``).
    """
    if record.state.is_final:
        return not record.scrubbed
    if record.state is RequestState.HELD:
        return False
    return not (record.state is RequestState.AWAITING_APPROVAL and record.approval is None)


@dataclass(frozen=True)
class Claimed:
    """An overdue request a watchdog pass took: ``idle_s`` since its last progress, ``busy`` when a
    task holds its lock (a live task is progress: it is only marked as seen, not re-driven)."""

    request_id: str
    idle_s: float
    busy: bool


class ProgressIndex:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys
        self._claim = client.register_script(_CLAIM)
        self._drop = client.register_script(_DROP)

    @property
    def key(self) -> str:
        return self._keys.progress

    def stage(self, pipe: redis.client.Pipeline, record: ErasureRecord, now: float | None = None) -> None:
        """Queue the index change for a write of ``record`` on ``pipe`` (inside the writer's MULTI)."""
        if needs_watching(record):
            pipe.zadd(self.key, {record.request_id: time.time() if now is None else now})
        else:
            pipe.zrem(self.key, record.request_id)

    def touch(self, request_ids: Iterable[str], now: float | None = None) -> None:
        """A task took these requests up: progress. Only ids already indexed (ZADD XX): a request that
        left the index (final, held) does not come back because a late message loaded it."""
        ids = list(request_ids)
        if ids:
            stamp = time.time() if now is None else now
            self._r.zadd(self.key, dict.fromkeys(ids, stamp), xx=True)

    def track(self, request_ids: Iterable[str], now: float | None = None) -> None:
        """Index these requests as seen now, indexed before or not (``erasure resume`` on requests
        stored before the index existed). One that needs nobody is dropped by the next watchdog pass."""
        ids = list(request_ids)
        if ids:
            stamp = time.time() if now is None else now
            self._r.zadd(self.key, dict.fromkeys(ids, stamp))

    def last_progress(self, request_id: str) -> float | None:
        score = self._r.zscore(self.key, request_id)
        return None if score is None else float(score)

    def claim_overdue(self, stalled_since: float, now: float, limit: int,
                      lock_key: Callable[[str], str]) -> list[Claimed]:
        """Take up to ``limit`` requests with no progress since ``stalled_since``, oldest first, and
        mark them as seen at ``now``: each stall is claimed by one pass, once."""
        candidates = [str(i) for i in self._r.zrangebyscore(self.key, "-inf", stalled_since, start=0, num=limit)]
        if not candidates:
            return []
        raw = self._claim(keys=[self.key, *(lock_key(i) for i in candidates)],
                          args=[stalled_since, now, *candidates])
        flat = [str(v) for v in raw]
        return [Claimed(request_id=flat[n], idle_s=max(0.0, now - float(flat[n + 1])), busy=flat[n + 2] == "1")
                for n in range(0, len(flat), 3)]

    def drop_unchanged(self, request_ids: Iterable[str], seen_at: float) -> None:
        """Take out of the index requests a pass found needing nobody, unless a write since
        (``seen_at`` is what the claim set) put them back: a released hold must stay watched."""
        ids = list(request_ids)
        if ids:
            self._drop(keys=[self.key], args=[seen_at, *ids])
