"""Keep nothing longer than needed: what a request leaves in Redis once it is final.

A final request keeps its record (scrubbed to digests and compacted to what ``erasure status``, the API and
the certificate read: ``shared.scrub``), its certificate and its audit entries. Its masked transcripts go
(they had a TTL in case it never ends). Redis's append-only file still holds the values that scrubbing
overwrote until Redis rewrites it, so a scrub marks the prefix and the workers' watchdog thread asks for
``BGREWRITEAOF`` at most once per ``ERASURE_AOF_REWRITE_INTERVAL_S`` while scrubs happened (0 turns this off:
run ``redis-cli BGREWRITEAOF`` from cron instead). A Redis that refuses the command (a managed service, an
ACL user without ``+bgrewriteaof``) is logged and asked again once per interval, not every pass: the mark
stays until a rewrite was accepted.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from shared.keys import Keys
from shared.models import ErasureRecord
from shared.runtime import Runtime
from shared.scrub import scrub_record

log = logging.getLogger("erasure.retention")


def retire(runtime: Runtime, record: ErasureRecord) -> ErasureRecord:
    """Store the final ``record`` scrubbed and compacted, drop its masked transcripts, and mark that the
    AOF now holds overwritten values. Idempotent (a redelivery, a resume)."""
    scrubbed = scrub_record(runtime.settings.require_hmac_key(), record)
    runtime.store.save(scrubbed)
    pipe = runtime.redis.pipeline(transaction=False)
    pipe.delete(runtime.keys.transcript(record.request_id))
    pipe.incr(runtime.keys.scrubbed_since_rewrite)  # a new value per scrub: see rewrite_aof_if_due
    pipe.execute()
    return scrubbed


def rewrite_aof_if_due(client: redis.Redis, keys: Keys, interval_s: float) -> bool:
    """Ask Redis for ``BGREWRITEAOF`` when scrubs happened since the last request and none was made within
    ``interval_s`` (by any worker: a lease in Redis); True when asked. Off with ``interval_s`` 0.

    The scrub mark is cleared only once Redis took the command, and only if no scrub marked it since it
    was read (a scrub during the rewrite may be in the new file: the next interval rewrites again). A
    refusal, a rewrite already running or a dropped connection leaves it, so the rewrite is not forgotten."""
    if interval_s <= 0:
        return False
    seen = client.get(keys.scrubbed_since_rewrite)
    if seen is None:
        return False
    if not client.set(keys.aof_rewrite_lease, "1", nx=True, px=max(1, int(interval_s * 1000))):
        return False
    try:
        client.bgrewriteaof()
    except redis.exceptions.ResponseError as exc:
        # Already rewriting (it may have forked before the latest scrubs: the mark stays), or not allowed here.
        if "already in progress" not in str(exc):
            log.warning("BGREWRITEAOF refused (%s); rewrite the AOF from cron or allow +bgrewriteaof for this user",
                        str(exc).split(" ", 1)[0])
            return False
        return True
    _clear_unless_marked_since(client, keys.scrubbed_since_rewrite, seen)
    return True


def _clear_unless_marked_since(client: redis.Redis, key: str, seen: Any) -> None:
    """Delete the scrub mark if it still holds ``seen`` (each scrub increments it)."""
    with client.pipeline() as pipe:
        try:
            pipe.watch(key)  # type: ignore[no-untyped-call]
            if pipe.get(key) != seen:
                return
            pipe.multi()
            pipe.delete(key)
            pipe.execute()
        except redis.WatchError:
            return  # a scrub marked it meanwhile: kept for the next interval
