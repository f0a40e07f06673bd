"""Rendering a kustomization as an operator would (``kubectl kustomize`` or ``kustomize build``).

In CI (``CI`` set) a missing tool fails the test loudly, as a missing Redis does (tests.support.redis_required),
unless ``.ci/run`` tried to install kubectl and could not (it says so and sets ``ERASURE_CI_NO_KUSTOMIZE``);
elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.redis_required import in_ci


def kustomize_command() -> list[str]:
    """The command that renders a kustomization folder given after it; fails in CI, skips elsewhere, without one."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    reason = "needs kubectl or kustomize on PATH to render deploy/k8s (apt-get install kubectl, or kustomize's release)"
    if in_ci() and not os.environ.get("ERASURE_CI_NO_KUSTOMIZE"):  # .ci/run tried to install one and could not
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def render(folder: Path) -> list[dict[str, Any]]:
    """Every resource the kustomization in ``folder`` renders; a rendering error fails the test with its message."""
    result = subprocess.run([*kustomize_command(), str(folder)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kustomize failed on {folder}: {result.stderr.strip()}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
