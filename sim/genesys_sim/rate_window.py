"""Per-token fixed-window rate limiting, the way the platform meters client-credentials tokens.

Each access token gets `limit` requests per window; the window starts with the token's first request and
restarts on the first request after it ends. The verdict carries what the `inin-ratelimit-*` headers and a
429's `Retry-After` need.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Outcome of one request against its token's window."""

    allowed: bool
    count: int  # requests seen in the current window, this one included
    limit: int
    reset_s: int  # whole seconds until the window resets, at least 1

    def headers(self) -> dict[str, str]:
        return {
            "inin-ratelimit-count": str(self.count),
            "inin-ratelimit-allowed": str(self.limit),
            "inin-ratelimit-reset": str(self.reset_s),
        }


class FixedWindowLimiter:
    """Thread-safe fixed windows keyed by token; `limit` and `window_s` may be changed at runtime."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window start, count)

    def hit(self, key: str, now: float | None = None) -> Verdict:
        """Count one request for `key` and say whether it may proceed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window_s:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
            reset = _reset_s(self.window_s, now - start)
            return Verdict(allowed=count <= self.limit, count=count, limit=self.limit, reset_s=reset)

    def peek(self, key: str, now: float | None = None) -> Verdict:
        """The window state without counting (for answers that are not metered, e.g. a 401)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window_s:
                start, count = now, 0
            reset = _reset_s(self.window_s, now - start)
            return Verdict(allowed=count < self.limit, count=count, limit=self.limit, reset_s=reset)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


def _reset_s(window_s: float, elapsed_s: float) -> int:
    """Whole seconds until the window ends, 1 to ``window_s``: never more than the window, even for a
    request timed a moment before another thread opened it (``now`` is read before the lock)."""
    return max(1, math.ceil(window_s - max(0.0, elapsed_s)))
