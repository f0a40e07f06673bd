"""TEST ONLY: a Celery worker that SIGKILLs itself right after a named platform call returned and before
the effect ledger recorded its answer: the worst moment, when the platform has acted and we do not know it.

    python -m tests.support.crashing_worker --crash-after gdpr_delete -A shared.celery_app worker -Q deletion ...

Everything after ``--crash-after NAME`` (repeatable, or comma-separated) is the ``celery`` command line,
run in this process. NAME is an effect's kind, its name up to the first ``:`` (``gdpr_delete``,
``user_delete``, ``recording_job``, ``contact``). The seam is ``EffectLedger.record_outcome``, the one
step between a platform call's answer and the ledger's record of it; production code carries no crash
point and reads no setting for it. The integration test restarts the worker without the option, and
the redelivered task must reconcile against the platform's list instead of submitting again.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable

from shared.effects import EffectLedger, Outcome

log = logging.getLogger("erasure.tests.crash")

RecordOutcome = Callable[[EffectLedger, str, str, Outcome], None]


def kinds(names: Iterable[str]) -> frozenset[str]:
    """``["gdpr_delete", " recording_job , user_delete "]`` -> the three kinds, blanks dropped."""
    return frozenset(part.strip() for name in names for part in name.split(",") if part.strip())


def crashing(record_outcome: RecordOutcome, crash_after: frozenset[str]) -> RecordOutcome:
    """``record_outcome`` that first kills its own process for an effect of a kind in ``crash_after``."""

    def record_or_die(ledger: EffectLedger, request_id: str, effect: str, outcome: Outcome) -> None:
        if effect.split(":")[0] in crash_after:
            log.critical("TEST crash after %r: killing worker process %d before the ledger records it",
                         effect, os.getpid())
            os.kill(os.getpid(), signal.SIGKILL)  # no handler, no cleanup: as a worker lost to the OOM killer
        record_outcome(ledger, request_id, effect, outcome)

    return record_or_die


def install(crash_after: frozenset[str]) -> None:
    """Make every ledger of this process die after the named calls (nothing to undo: the process ends)."""
    if crash_after:
        EffectLedger.record_outcome = crashing(EffectLedger.record_outcome, crash_after)  # type: ignore[method-assign]


def split_args(argv: list[str]) -> tuple[frozenset[str], list[str]]:
    """The leading ``--crash-after KIND`` pairs, and the ``celery`` command line that follows them."""
    names: list[str] = []
    rest = list(argv)
    while rest[:1] == ["--crash-after"]:
        if len(rest) < 2:
            raise SystemExit("--crash-after needs an effect kind (gdpr_delete, recording_job, user_delete, contact)")
        names.append(rest[1])
        del rest[:2]
    return kinds(names), rest


def main(argv: list[str] | None = None) -> None:
    crash_after, celery_args = split_args(sys.argv[1:] if argv is None else argv)
    install(crash_after)
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


if __name__ == "__main__":
    main()
