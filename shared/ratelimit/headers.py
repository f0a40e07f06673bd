"""Reading the platform's ``inin-ratelimit-*`` headers into a bucket correction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple


class WindowReading(NamedTuple):
    spent: float  # requests spent in the current window (inin-ratelimit-count)
    allowed: float  # requests the window allows
    reset_s: float  # seconds until the window resets


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        # Plain dicts are case-sensitive; httpx.Headers is not. Accept both.
        raw = next((v for k, v in headers.items() if k.lower() == name), None)
    if raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def read_window(headers: Mapping[str, str]) -> WindowReading | None:
    """The three headers as numbers, or None when any is absent or garbled."""
    count = _number(headers, "inin-ratelimit-count")
    allowed = _number(headers, "inin-ratelimit-allowed")
    reset = _number(headers, "inin-ratelimit-reset")
    if count is None or allowed is None or reset is None or allowed <= 0:
        return None
    return WindowReading(count, allowed, reset)


def correction_offset_us(
    reading: WindowReading, *, burst: int, interval_us: int, max_pause_s: float
) -> int:
    """How far past now the TAT must be so the bucket spends no more than the window has left.

    From TAT ``now + x`` the bucket grants ``burst - x/T`` tokens at once and one per ``T``
    after that, i.e. ``burst - x/T + reset/T`` before the reset. Keeping that at or below
    ``allowed - count`` gives ``x = reset + (burst - remaining) * T``.
    """
    remaining = max(0.0, reading.allowed - reading.spent)
    reset_us = min(reading.reset_s, max_pause_s) * 1_000_000
    return math.ceil(reset_us + (burst - remaining) * interval_us)
