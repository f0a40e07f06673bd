"""The CLI explains what it cannot do in one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "code", "says"), [
    ({}, 2, "ERASURE_HMAC_KEY must be set"),
    ({"ERASURE_HMAC_KEY": "k" * 32, "ERASURE_REDIS_URL": "redis://127.0.0.1:1/0"}, 3, "Redis: ConnectionError"),
])
def test_submit_without_what_it_needs_is_one_clear_line(env, code, says):
    result = run_cli("submit", "--ticket", "CLI-1", "--email", "jane.doe@example.org", **env)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr and "jane.doe@example.org" not in result.stderr


def test_an_unreadable_audit_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "audit.jsonl"
    bad.write_bytes(b"\xff\xfe{not json")
    result = run_cli("audit", "verify", "--file", str(bad), ERASURE_HMAC_KEY="k" * 32)
    assert result.returncode == 1
    assert result.stderr.startswith("error UnicodeDecodeError")
    assert "Traceback" not in result.stderr
