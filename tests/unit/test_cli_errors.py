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


def test_version_is_the_installed_package_version_even_with_a_bad_setting():
    from importlib.metadata import version

    result = run_cli("--version", ERASURE_GENESYS_REGION="mars")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"genesys-erasure {version('genesys-erasure')}"


def test_a_bad_region_is_one_line_not_a_validation_error():
    result = run_cli("status", ERASURE_GENESYS_REGION="mars", ERASURE_HMAC_KEY="k" * 32)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error configuration: ERASURE_GENESYS_REGION must be a region name (e.g. eu_west_1) or domain (e.g. "
        "mypurecloud.ie)"]


def test_a_value_that_is_not_a_number_names_its_variable_not_its_value():
    result = run_cli("status", ERASURE_RATE_BURST="s3cret", ERASURE_HMAC_KEY="k" * 32)
    assert result.returncode == 2
    assert result.stderr.startswith("error configuration: ERASURE_RATE_BURST: ")
    assert "s3cret" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_misspelt_redis_url_stops_the_cli_instead_of_using_localhost():
    result = run_cli("status", ERASURE_REDIS_URI="redis://127.0.0.1:1/0", ERASURE_HMAC_KEY="k" * 32)
    assert result.returncode == 2
    assert "did you mean ERASURE_REDIS_URL?" in result.stderr and "Traceback" not in result.stderr
