"""``erasure submit`` options that do not go together are refused, not silently ignored."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shared import celery_app


@pytest.fixture
def cli(runtime, monkeypatch):
    """Run the CLI in process against the fakeredis runtime (tests/unit/conftest.py), nothing sent."""
    import shared.config
    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    monkeypatch.setattr(shared.config, "get_settings", lambda: runtime.settings)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *a, **k: None)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["submit", *args])


@pytest.mark.parametrize("lane", ["interactive", "bulk"])
def test_a_lane_with_a_file_is_refused_and_nothing_is_stored(cli, runtime, tmp_path, lane):
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"ticket": "F-1", "emails": ["f1@example.org"]}\n')
    result = cli("--file", str(batch), "--lane", lane)
    assert result.exit_code == 2
    assert "--lane goes with a single request" in result.output
    assert runtime.store.ids() == []


def test_a_file_without_a_lane_is_submitted(cli, runtime, tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"ticket": "F-1", "emails": ["f1@example.org"]}\n')
    assert cli("--file", str(batch)).exit_code == 0
    assert len(runtime.store.ids()) == 1
