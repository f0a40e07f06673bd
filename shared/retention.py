"""Keep nothing longer than needed: what a request leaves in Redis once it is final.

A final request keeps its record (scrubbed to digests and compacted to what ``erasure status``, the API and
the certificate read: ``shared.scrub``), its certificate and its audit entries. Its masked transcripts go
(they had a TTL in case it never ends). Redis's append-only file still holds the values that scrubbing
overwrote until Redis rewrites it, so a scrub marks the prefix and the workers' watchdog thread asks for
``BGREWRITEAOF`` at most once per ``ERASURE_AOF_REWRITE_INTERVAL_S`` while scrubs happened (0 turns this off:
run ``redis-cli BGREWRITEAOF`` from cron instead). A Redis that refuses the command (a managed service, an
ACL user without ``+bgrewriteaof``) is logged, not retried every pass.
"""

from __future__ import annotations

import logging

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
    pipe.set(runtime.keys.scrubbed_since_rewrite, "1")
    pipe.execute()
    return scrubbed


def rewrite_aof_if_due(client: redis.Redis, keys: Keys, interval_s: float) -> bool:
    """Ask Redis for ``BGREWRITEAOF`` when scrubs happened since the last request and none was made within
    ``interval_s`` (by any worker: a lease in Redis); True when asked. Off with ``interval_s`` 0."""
    if interval_s <= 0 or not client.exists(keys.scrubbed_since_rewrite):
        return False
    if not client.set(keys.aof_rewrite_lease, "1", nx=True, px=max(1, int(interval_s * 1000))):
        return False
    client.delete(keys.scrubbed_since_rewrite)  # before: a scrub during the rewrite marks it again
    try:
        client.bgrewriteaof()
    except redis.exceptions.ResponseError as exc:
        # Already rewriting (then the new file will not hold the old values either), or not allowed here.
        if "already in progress" not in str(exc):
            log.warning("BGREWRITEAOF refused (%s); rewrite the AOF from cron or allow +bgrewriteaof for this user",
                        str(exc).split(" ", 1)[0])
            return False
    return True
