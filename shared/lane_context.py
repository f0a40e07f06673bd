"""The lane of the batch running in this context (issue 21): set once per task delivery by
``shared.pipeline.erasure_task`` from its message, read by every stage send (``shared.lanes``) and by the
Genesys client's limiter call, so work keeps its lane and its share of the rate budget without passing
the lane through every function. Outside a batch (the CLI, the API, a polling pass) messages go
interactive and the limiter sees no lane (``batch_lane``): a pass serves both lanes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from shared.models import Lane

_current: ContextVar[Lane | None] = ContextVar("erasure_lane", default=None)


def current_lane() -> Lane:
    """The lane of the batch this code runs for (interactive outside one)."""
    return _current.get() or Lane.INTERACTIVE


def batch_lane() -> Lane | None:
    """The lane of the running batch, None outside one (what the limiter is told)."""
    return _current.get()


@contextmanager
def in_lane(lane: Lane) -> Iterator[None]:
    """Run the block as work of ``lane`` (restored on the way out, so nested scopes and threads stay apart)."""
    token = _current.set(lane)  # a Token[Lane | None]
    try:
        yield
    finally:
        _current.reset(token)
