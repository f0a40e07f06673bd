"""TEST ONLY: a Celery worker that SIGKILLs itself right after a request's state moved on (its audit entry
written) and before its batch ended: the moment between a request moving to the next stage and the
batch's message to that stage, which goes out when the batch ends.

    python -m tests.support.handoff_crash --crash-after-event deletion.submitted -A shared.celery_app worker ...

Everything after ``--crash-after-event EVENT`` is the ``celery`` command line, run in this process. The
seam is ``AuditLog.append``: ``shared.pipeline.transition`` writes the audit entry of a move right after
the move itself. Production code carries no crash point and reads no setting for it. The first entry
named EVENT kills the process, as the OOM killer or a node loss would: no handler, no ``finally``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from shared.audit import AuditLog

log = logging.getLogger("erasure.tests.crash")

Append = Callable[..., Any]


def crashing(append: Append, event: str) -> Append:
    """``AuditLog.append`` that kills its own process once it has written an entry named ``event``."""

    def append_or_die(audit: AuditLog, name: str, *args: Any, **kwargs: Any) -> Any:
        written = append(audit, name, *args, **kwargs)
        if name == event:
            log.critical("TEST crash after %r: killing worker process %d before its batch ends", name, os.getpid())
            os.kill(os.getpid(), signal.SIGKILL)
        return written

    return append_or_die


def split_args(argv: list[str]) -> tuple[str, list[str]]:
    if argv[:1] != ["--crash-after-event"] or len(argv) < 2:
        raise SystemExit("usage: --crash-after-event EVENT <celery arguments>")
    return argv[1], argv[2:]


def main(argv: list[str] | None = None) -> None:
    event, celery_args = split_args(sys.argv[1:] if argv is None else argv)
    AuditLog.append = crashing(AuditLog.append, event)  # type: ignore[method-assign]
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


if __name__ == "__main__":
    main()
