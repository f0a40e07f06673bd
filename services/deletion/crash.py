"""TEST ONLY: crash points that prove exactly-once deletion survives a worker killed mid-step.

``ERASURE_TEST_CRASH_AFTER`` (comma-separated: ``gdpr_delete``, ``recording_job``, ``user_delete``)
makes the deletion code SIGKILL its own worker process right after that platform call returned and
before the platform's id is written to the effect ledger: the worst moment, when the platform has
acted and we do not know it. The integration test restarts the worker without the variable; the
redelivered task must reconcile against the platform's list instead of submitting again.
Unset (the default and the only production setting) it does nothing.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger("erasure.deletion")


def crash_point(name: str) -> None:
    wanted = {p.strip() for p in os.environ.get("ERASURE_TEST_CRASH_AFTER", "").split(",") if p.strip()}
    if name in wanted:
        log.critical("TEST crash point %r reached: killing worker process %d (ERASURE_TEST_CRASH_AFTER)",
                     name, os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)
