"""Keeping personal data out of logs and Sentry events.

``install_log_scrubbing()`` puts a :class:`PiiLogFilter` on the root logger's handlers: every
record they emit has its rendered message, exception text, stack text and string ``extra`` fields
passed through the engine. ``sentry_before_send`` does the same for a Sentry event and drops the
parts that cannot be scrubbed reliably (request bodies, cookies, local variables).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from shared.pii.engine import scrub

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_FORMATTER: Final = logging.Formatter()
_MAX_DEPTH: Final = 12


def scrub_data(value: Any, _depth: int = 0) -> Any:
    """A copy of JSON-like ``value`` (dicts, lists, tuples, strings...) with every string scrubbed.

    Keys are scrubbed too (an address used as a key is still an address). For audit details,
    webhook bodies and the like.
    """
    if isinstance(value, str):
        return scrub(value)
    if _depth >= _MAX_DEPTH:
        return "<DEPTH>"
    if isinstance(value, Mapping):
        return {(scrub(k) if isinstance(k, str) else k): scrub_data(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_data(v, _depth + 1) for v in value]
    return value


class PiiLogFilter(logging.Filter):
    """Replaces a record's message (rendered with its args), exception and stack text with scrubbed text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!s} {record.args!r}"
        record.msg = scrub(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                setattr(record, key, scrub_data(value))
        record._pii_scrubbed = True
        return True


def install_log_scrubbing(logger: logging.Logger | None = None) -> PiiLogFilter:
    """Add one shared :class:`PiiLogFilter` to every handler of ``logger`` (the root logger by default).

    Idempotent. Handlers added later need ``handler.addFilter(...)`` with the returned filter.
    """
    target = logger if logger is not None else logging.getLogger()
    existing = next(
        (f for handler in target.handlers for f in handler.filters if isinstance(f, PiiLogFilter)),
        None,
    )
    log_filter = existing or PiiLogFilter()
    for handler in target.handlers:
        if not any(isinstance(f, PiiLogFilter) for f in handler.filters):
            handler.addFilter(log_filter)
    return log_filter


def _scrub_frames(container: Any) -> None:
    """Drop local variables from stack frames in an exception or thread entry."""
    if not isinstance(container, dict):
        return
    stacktrace = container.get("stacktrace")
    if isinstance(stacktrace, dict):
        for frame in stacktrace.get("frames") or ():
            if isinstance(frame, dict):
                frame.pop("vars", None)


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry ``before_send``: scrub messages, exception values, breadcrumbs, extra, tags, contexts;
    drop request bodies, cookies, headers and local variables.
    """
    if isinstance(event.get("message"), str):
        event["message"] = scrub(event["message"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = scrub(logentry[key])
        if "params" in logentry:
            logentry["params"] = scrub_data(logentry["params"])
    exception = event.get("exception")
    if isinstance(exception, dict):
        for value in exception.get("values") or ():
            if isinstance(value, dict):
                if isinstance(value.get("value"), str):
                    value["value"] = scrub(value["value"])
                _scrub_frames(value)
    threads = event.get("threads")
    if isinstance(threads, dict):
        for thread in threads.get("values") or ():
            _scrub_frames(thread)
    breadcrumbs = event.get("breadcrumbs")
    crumbs = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    if isinstance(crumbs, list):
        for crumb in crumbs:
            if isinstance(crumb, dict):
                if isinstance(crumb.get("message"), str):
                    crumb["message"] = scrub(crumb["message"])
                if "data" in crumb:
                    crumb["data"] = scrub_data(crumb["data"])
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "headers", "env"):
            request.pop(key, None)
        for key in ("url", "query_string"):
            if isinstance(request.get(key), str):
                request[key] = scrub(request[key])
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for key in ("extra", "tags", "contexts"):
        if key in event:
            event[key] = scrub_data(event[key])
    return event
