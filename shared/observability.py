"""Logging and error reporting that never carry personal data.

Every process (worker, CLI, intake API) calls ``setup_observability`` once: logs become JSON lines
on stderr, every record passes through the PII scrubber first, and Sentry (when a DSN is set)
runs with ``send_default_pii`` off, no local variables, and every event scrubbed in ``before_send``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from shared.config import Settings
from shared.pii.engine import scrub
from shared.pii.logging import PiiLogFilter, sentry_before_send

_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            # exc_text is what PiiLogFilter scrubbed; rendering exc_info again would undo it.
            entry["exc"] = record.exc_text or scrub(self.formatException(record.exc_info))  # type: ignore[arg-type]
        return json.dumps(entry)


def setup_observability(settings: Settings, level: int | str = logging.WARNING) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiLogFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # billiard's pool logger ("multiprocessing": "Pool callback raised exception: %r", a task's error with its
    # arguments) does not propagate to the root: without a handler of its own its lines would reach stderr
    # through logging's last resort, neither JSON nor scrubbed.
    pool_logger = logging.getLogger("multiprocessing")
    pool_logger.handlers[:] = [handler]
    dsn = settings.sentry_dsn.get_secret_value()
    if dsn:
        import sentry_sdk
        from sentry_sdk.integrations.httpx import HttpxIntegration

        # The httpx integration's breadcrumbs carry URLs whose query strings hold searched emails and phones.
        sentry_sdk.init(dsn=dsn, send_default_pii=False, include_local_variables=False,
                        before_send=sentry_before_send,  # type: ignore[arg-type]
                        disabled_integrations=[HttpxIntegration()],
                        max_request_body_size="never")
