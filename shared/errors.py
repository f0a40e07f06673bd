"""The project's own exceptions have one root, and "not yet" has one signal.

    ErasureError                 root: ``except ErasureError`` catches ours and nothing of a library's
     ├── RunLater                not a failure: run this work again after ``defer_s`` seconds
     │    ├── RateLimitWait      the shared rate budget frees up later (``shared.ratelimit``)
     │    └── RateLimited        the platform answered 429 (also a ``GenesysError``)
     ├── GenesysError            the platform's answers (``shared.genesys.errors``)
     ├── RateLimitError          the limiter (``shared.ratelimit.errors``)
     ├── ReconcileIncomplete     an earlier call may have reached the platform unseen (``shared.effects``)
     └── IntakeError, ApprovalError, PurgeRefused, DuplicateTicket, UnknownRequest, InvalidIdentifier, ConfigError,
                                 IllegalTransition (a move the state table in ``shared.models`` refuses)

A task body raises ``RunLater`` and ``shared.pipeline`` sends the same batch again with that countdown,
without spending the retry budget meant for errors (what arq calls ``Retry(defer=...)``).
"""

from __future__ import annotations


class ErasureError(Exception):
    """Root of the project's own exceptions."""


class RunLater(ErasureError):
    """Run this work again after ``defer_s`` seconds: the platform or the budget says "not yet".

    ``request_id`` is set when only that request must wait (a recording-job slot), not its whole
    batch: the deletion pool then goes on with the batch's other requests and sends that one again.
    """

    def __init__(self, defer_s: float, reason: str = "not yet", *, request_id: str | None = None,
                 message: str | None = None) -> None:
        super().__init__(message or f"{reason}; again in {defer_s:.1f}s")
        self.defer_s = defer_s
        self.reason = reason
        self.request_id = request_id
