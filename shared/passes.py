"""Loops that follow the platform's work one pass at a time (the GDPR sweep, the recording-job follow).

A pass is a task sent by name with a countdown; a flag key says one is already on its way, so however
many requests ask for the next pass, one is scheduled. Any pool may ask (the deletion pool hands a
started recording job over this way); the polling pool runs the passes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import suppress

from redis.exceptions import LockError

from shared.lanes import send
from shared.models import Lane
from shared.runtime import Runtime

log = logging.getLogger("erasure.polling")


def schedule_pass(runtime: Runtime, task_name: str, flag_key: str, countdown_s: float, *, force: bool = False) -> bool:
    """Send ``task_name`` with a countdown unless ``flag_key`` says one is already on its way; True if
    this call sent it.

    The flag holds a token that the message carries: the pass it sends is the loop's one live pass.
    ``force`` sends one whatever the flag says, for a re-drive (``services.resume``): it runs because
    the loop made no progress, so the message the flag stands for may be lost, and the flag outlives
    it by up to two minutes. If that message was only late, it finds another token in the flag and
    stops (``run_pass``): the loop goes on as one chain, not two.
    """
    ttl_ms = int((countdown_s + 120) * 1000)
    token = uuid.uuid4().hex
    if not runtime.redis.set(flag_key, token, nx=not force, px=ttl_ms):
        return False
    # A pass serves requests of both lanes: sent interactive, so a bulk backlog never holds it up.
    send(task_name, kwargs={"token": token}, lane=Lane.INTERACTIVE, countdown=countdown_s)
    return True


def run_pass(runtime: Runtime, *, task_name: str, flag_key: str, lock_key: str, pending_key: str,
             work: Callable[[Runtime], None], token: str | None = None) -> None:
    """Run one pass of a polling loop, one at a time.

    The next pass is scheduled while anything is pending, even after a pass that failed or
    outlived its lock: a loop that stops scheduling itself would leave every request it follows
    hanging. A pass whose token is no longer the flag's was superseded by a forced one and does
    nothing (no token: a message sent before tokens existed, which runs as it always did).
    """
    if not _take_flag(runtime, flag_key, token):
        return
    lock = runtime.redis.lock(lock_key, timeout=600, blocking=False)
    if not lock.acquire():
        return  # another pass is running; it schedules the next one
    try:
        work(runtime)
    except Exception as exc:
        log.warning("%s failed (%s); trying again", task_name, type(exc).__name__)
    finally:
        if runtime.redis.hlen(pending_key):
            schedule_pass(runtime, task_name, flag_key, runtime.settings.poll_interval_s)
        with suppress(LockError):
            lock.release()


# Clear the flag unless it names another pass: 1 = run this pass, 0 = superseded. An expired flag
# (a pass late by more than its grace) runs: no other pass is known to be on its way.
_TAKE_FLAG = """
local current = redis.call('GET', KEYS[1])
if current and ARGV[1] ~= '' and current ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
"""


def _take_flag(runtime: Runtime, flag_key: str, token: str | None) -> bool:
    return bool(runtime.redis.eval(_TAKE_FLAG, 1, flag_key, token or ""))
