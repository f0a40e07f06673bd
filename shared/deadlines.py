"""The 30-day clock: which open requests are overdue or at risk of being so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.models import ErasureRecord

AT_RISK_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class DeadlineView:
    open: int
    overdue: int
    at_risk: int  # open, not overdue, deadline within AT_RISK_WITHIN


def days_left(record: ErasureRecord, now: datetime) -> float:
    return (record.deadline - now).total_seconds() / 86400


def describe(record: ErasureRecord, now: datetime) -> str:
    if record.state.is_final:
        met = record.completed_at is not None and record.completed_at <= record.deadline
        return "met" if met else "missed"
    left = days_left(record, now)
    return f"overdue {-left:.1f}d" if left < 0 else f"{left:.1f}d left"


def standing(deadline: datetime, now: datetime) -> str:
    """An open request's place on the clock: "overdue", "at_risk" (due within ``AT_RISK_WITHIN``) or "ok".
    The one rule ``erasure status``, the served gauges (``shared.store_gauges``) and the console use."""
    return standing_ts(deadline.timestamp(), now.timestamp())


def standing_ts(deadline: float, now: float) -> str:
    """``standing`` on epoch seconds, for a list of thousands that keeps its dates as numbers."""
    if deadline < now:
        return "overdue"
    return "at_risk" if deadline - now <= AT_RISK_WITHIN.total_seconds() else "ok"


def deadline_view(records: Iterable[ErasureRecord], now: datetime) -> DeadlineView:
    """Counts of the open requests among ``records``. The gauges of the same counts are served by the
    workers (``erasure_requests_overdue``, ``erasure_requests_due_soon``), not set here: a short-lived
    command's gauge is never scraped."""
    open_ = overdue = at_risk = 0
    for record in records:
        if record.state.is_final:
            continue
        open_ += 1
        place = standing(record.deadline, now)
        overdue += place == "overdue"
        at_risk += place == "at_risk"
    return DeadlineView(open=open_, overdue=overdue, at_risk=at_risk)
