"""What a worker checks before it takes any message: settings it cannot work without.

Connected to Celery's ``worker_init`` signal (this module is in ``shared.celery_app.TASK_MODULES``, which
every worker imports). A worker without a usable signing key (``ERASURE_SIGNING_KEY`` or
``ERASURE_SIGNING_KEY_FILE``) refuses to start, with one line naming the variable, rather than taking
requests it could carry to their end but never certify. ``SystemExit`` because Celery logs and swallows
any ``Exception`` a signal handler raises.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init

from shared.config import ConfigError, get_settings

log = logging.getLogger("erasure.worker")

#: The worker's exit status when a setting it needs is missing (the CLI's "configuration" status too).
EXIT_CONFIG = 2


def check_settings() -> None:
    """Raise ``ConfigError`` naming the variable when a worker could not certify what it erases."""
    get_settings().require_signer()


@worker_init.connect
def _on_worker_init(**_: Any) -> None:
    try:
        check_settings()
    except ConfigError as exc:  # the message names variables, never a value
        log.critical("worker refuses to start: %s", exc)
        raise SystemExit(EXIT_CONFIG) from None
