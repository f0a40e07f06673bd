"""Exceptions raised by the rate limiter.

    RateLimitError
     ├── RateLimitWait       the wait exceeds what the caller may block: retry later
     └── LimiterUnavailable  Redis cannot be reached: fail closed, send nothing
"""

from __future__ import annotations


class RateLimitError(Exception):
    """Root of the limiter's exceptions."""


class RateLimitWait(RateLimitError):
    """The budget frees up only after ``wait_s`` seconds, longer than the caller agreed to block.

    A Celery task should hand its worker back with ``self.retry(countdown=exc.wait_s)``
    rather than sleep.
    """

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"rate budget exhausted, next token in {wait_s:.3f} s")
        self.wait_s = wait_s


class LimiterUnavailable(RateLimitError):
    """Redis is unreachable, so no request may go out: the limiter fails closed."""
