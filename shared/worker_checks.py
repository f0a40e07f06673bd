"""What a worker checks before it takes any message: the settings it cannot work without.

Connected to Celery's ``worker_init`` signal (this module is in ``shared.celery_app.TASK_MODULES``, which
every worker imports). A worker that could not carry a request to its end (no Genesys region or base URL,
no HMAC key, no usable signing key, webhook targets without a secret) refuses to start, with one line
naming the variable (``shared.settings_guard.check_can_start``), rather than take requests and fail each
one it touches. Unknown ``ERASURE_*`` names are warned about here too. ``SystemExit`` because Celery logs
and swallows any ``Exception`` a signal handler raises.

Settings that cannot even be read (a bad region, a number that is not one) stop the worker earlier, when
Celery first reads its configuration (``shared.celery_app``), with the same one line.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init

from shared.config import ConfigError
from shared.settings_guard import check_can_start, refuse_to_start


@worker_init.connect
def _on_worker_init(**_: Any) -> None:
    try:
        check_can_start("worker")
    except ConfigError as exc:  # the message names variables, never a value
        refuse_to_start("worker", exc)
