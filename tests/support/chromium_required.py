"""The rule for the test that renders a certificate in a real browser: Debian's ``chromium``.

In CI (``CI`` set; ``.ci/run`` sets it and installs chromium) a missing browser fails the test, so a green
run means the page was rendered. Outside CI it skips with the reason.
"""

from __future__ import annotations

import shutil

import pytest

from tests.support.redis_required import in_ci


def require_chromium() -> str:
    """The path of ``chromium``; fails in CI, skips elsewhere, when it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        reason = "needs chromium on PATH (.ci/run installs it: apt-get install chromium)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path
