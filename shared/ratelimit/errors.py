"""Exceptions raised by the rate limiter (under the project's root, ``shared.errors.ErasureError``).

    RateLimitError
     ├── RateLimitWait       the wait exceeds what the caller may block: retry later (a ``RunLater``)
     └── LimiterUnavailable  Redis cannot be reached: fail closed, send nothing
"""

from __future__ import annotations

from shared.errors import ErasureError, RunLater


class RateLimitError(ErasureError):
    """Root of the limiter's exceptions."""


class RateLimitWait(RateLimitError, RunLater):
    """The budget frees up only after ``wait_s`` seconds, longer than the caller agreed to block.

    A task hands its worker back rather than sleep: it is the project's one "later" signal
    (``RunLater`` with ``defer_s == wait_s``), which ``shared.pipeline`` turns into a fresh message
    with that countdown; a plain Celery task would ``self.retry(countdown=exc.wait_s)``.
    """

    def __init__(self, wait_s: float) -> None:
        super().__init__(wait_s, "rate budget exhausted", message=f"rate budget exhausted, next token in {wait_s:.3f} s")
        self.wait_s = wait_s


class LimiterUnavailable(RateLimitError):
    """Redis is unreachable, so no request may go out: the limiter fails closed."""
