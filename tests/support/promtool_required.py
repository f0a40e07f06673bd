"""The rule for the tests that run ``promtool`` (Prometheus's rule checker, from Debian's ``prometheus``).

In CI (``CI`` set; ``.ci/run`` extracts promtool from the package) a missing promtool fails the test, so a
green run means every alert was tested. Outside CI it skips with the reason.
"""

from __future__ import annotations

import shutil

import pytest

from tests.support.redis_required import in_ci


def require_promtool() -> str:
    """The path of ``promtool``; fails in CI, skips elsewhere, when it is not installed."""
    path = shutil.which("promtool")
    if path is None:
        reason = ("needs promtool on PATH (.ci/run installs it: apt-get download prometheus, then dpkg -x and "
                  "copy usr/bin/promtool)")
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path
