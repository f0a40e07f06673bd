"""``erasure submit`` options that do not go together are refused, not silently ignored."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shared import celery_app


@pytest.fixture
def erasure(runtime, monkeypatch):
    """Any ``erasure`` command in process against the fakeredis runtime (tests/unit/conftest.py), nothing sent."""
    import shared.config
    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    monkeypatch.setattr(shared.config, "get_settings", lambda: runtime.settings)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *a, **k: None)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.fixture
def cli(erasure):
    """``erasure submit`` with the arguments given."""
    return lambda *args: erasure("submit", *args)


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



def test_submit_refuses_a_ticket_user_id_and_approver_the_http_door_would_refuse(cli, runtime, tmp_path):
    """The CLI and its bulk file go through the same rules as the HTTP door, by field, never the value."""
    result = cli("--ticket", "../T[red]1", "--user-id", "../externalcontacts/contacts/0000",
                 "--approved-by", "Jane Smith (DPO)\n\x1b[2Japproved")
    assert result.exit_code == 2
    assert "ticket: String should match pattern" in result.output
    assert "user_id: String should match pattern" in result.output
    assert "approved_by: must be a name as an API key's" in result.output
    assert "externalcontacts" not in result.output and "Smith" not in result.output and "\x1b" not in result.output
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"ticket": "F/../1", "emails": ["f1@example.org"]}\n'
                     '{"ticket": "F-2", "emails": ["f2@example.org"], "external_contact_ids": ".."}\n'
                     '{"ticket": "F-3", "emails": ["f3@example.org"], "approved_by": "boss\\u001b[2J"}\n')
    result = cli("--file", str(batch))
    assert result.exit_code == 2
    assert "line 1: refused: ticket:" in result.output
    assert "line 2: refused: external_contact_ids.0:" in result.output
    assert "line 3: refused: approved_by:" in result.output
    assert runtime.store.ids() == []


def _awaiting(runtime, ticket):
    """A request waiting at the approval gate, stored as discovery and redaction would leave it."""
    from services.intake.validation import parse_request
    from shared.models import RequestState

    record = parse_request({"ticket": ticket, "emails": ["jane@example.org"]})
    stored = record.model_copy(update={"state": RequestState.AWAITING_APPROVAL})
    stored.subject_digest = runtime.digest(stored)
    return runtime.store.create(stored).request_id


@pytest.mark.parametrize("by", ["Jane Smith (DPO)\n\x1b[2Japproved.by=ceo", "A. Officer", "-x"])
def test_approve_by_must_be_a_name_as_an_api_keys_and_is_not_recorded_otherwise(erasure, runtime, by):
    request_id = _awaiting(runtime, "AP-1")
    result = erasure("approve", "AP-1", "--by", by)
    assert result.exit_code == 2
    assert "by: must be a name as an API key's" in result.output
    assert "Smith" not in result.output and "Officer" not in result.output
    assert runtime.store.get(request_id).approval is None
    assert erasure("approve", "AP-1", "--by", "it-dpo").exit_code == 0
    assert runtime.store.get(request_id).approval.by == "it-dpo"


def test_approve_without_by_refuses_an_os_user_name_that_is_not_one_and_asks_for_by(erasure, runtime, monkeypatch):
    import getpass

    request_id = _awaiting(runtime, "AP-2")
    monkeypatch.setattr(getpass, "getuser", lambda: "Jane Smith\x1b[2J")
    result = erasure("approve", "AP-2")
    assert result.exit_code == 2
    assert "your OS user name cannot be an approver's name" in result.output and "--by NAME" in result.output
    assert "Smith" not in result.output
    assert runtime.store.get(request_id).approval is None
    monkeypatch.setattr(getpass, "getuser", lambda: "dpo")
    assert erasure("approve", "AP-2").exit_code == 0
    assert runtime.store.get(request_id).approval.by == "dpo"
