"""A controllable clock for fakeredis, so rate-limiter tests assert exact waits instead of timing windows.

fakeredis reads ``time.time()`` in two places: the TIME command (what the Lua scripts see as Redis's
clock) and the start of every command (what key expiry, ``SET ... PX`` and ``PTTL`` measure against).
Both are driven by the one ``FakeClock`` here, so a key's TTL and the scripts' arithmetic agree and a
test on a loaded machine never sees a key expire because real time passed between two calls.
"""

from __future__ import annotations

import pytest
from fakeredis._socket import _base as socket_base
from fakeredis.commands_mixins import server_mixin

START_S = 1_790_000_000.0


class FakeClock:
    """Stands in for the ``time`` module inside fakeredis; kept in whole microseconds so sums stay exact."""

    def __init__(self, start: float = START_S) -> None:
        self._us = round(start * 1_000_000)

    @property
    def now(self) -> float:
        return self._us / 1_000_000

    @now.setter
    def now(self, seconds: float) -> None:
        self._us = round(seconds * 1_000_000)

    @property
    def now_us(self) -> int:
        """The clock in integer microseconds since 1970, as Redis's TIME reports it."""
        return self._us

    def time(self) -> float:
        return self._us / 1_000_000

    def advance(self, seconds: float) -> None:
        self._us += round(seconds * 1_000_000)


def install_fake_clock(monkeypatch: pytest.MonkeyPatch, start: float = START_S) -> FakeClock:
    """Drive fakeredis's TIME and its key expiry from one ``FakeClock`` for the rest of the test."""
    clock = FakeClock(start)
    monkeypatch.setattr(server_mixin, "time", clock)
    monkeypatch.setattr(socket_base, "time", clock)
    return clock

