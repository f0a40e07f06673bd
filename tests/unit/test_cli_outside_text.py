"""What the CLI prints that came from outside (a ticket from the API or a file, a hold reason typed in the
console, a rejection's reason, platform ids in a review) is shown as text: rich markup in it neither crashes
the command nor styles or links anything, and no control character reaches the terminal."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

import services.cli
from shared import celery_app
from shared.models import ExportReview, ExportSummary, RequestState
from tests.support.records import put_state

ESCAPES = "\x1b[2J\x1b[H\x1b]0;PWNED\x1b\\ \x9b31m \u202e"


@pytest.fixture
def cli(runtime, monkeypatch):
    """The CLI in process against the fakeredis runtime (tests/unit/conftest.py), nothing sent; its consoles
    wide, so no cell is wrapped, and as a terminal would be (colours on), so styling is really rendered."""
    import shared.config
    import shared.runtime

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    monkeypatch.setattr(shared.config, "get_settings", lambda: runtime.settings)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *a, **k: None)
    monkeypatch.setattr(services.cli, "out", Console(width=300, force_terminal=True, emoji=False))
    monkeypatch.setattr(services.cli, "err", Console(width=300, stderr=True, emoji=False))
    runner = CliRunner()
    return lambda *args: runner.invoke(services.cli.app, list(args))


def submitted(runtime, ticket: str) -> str:
    from services.intake.submit import submit

    return submit(runtime, {"ticket": ticket, "emails": [f"{len(ticket)}@example.org"]}).request_id


def stored(runtime, ticket: str) -> str:
    """A request stored as it stands, past the doors' ticket pattern (one stored before it, or by hand)."""
    from shared.models import ErasureRecord, Subject, utcnow

    record = ErasureRecord(ticket=ticket, subject=Subject(emails=["t@example.org"]), verified_at=utcnow())
    return runtime.store.create(record).request_id


def no_controls(text: str) -> bool:
    """Nothing but the console's own SGR colour codes: no other escape, C1 or bidi control."""
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 or 0x202A <= ord(c) <= 0x202E for c in plain)


def test_status_lists_a_ticket_that_looks_like_markup(cli, runtime):
    submitted(runtime, "T-1")
    stored(runtime, "T-2[/b]")
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert "T-1" in result.output and "T-2[/b]" in result.output


def test_status_shows_a_reason_with_escapes_as_text(cli, runtime):
    request_id = submitted(runtime, "T-3")
    runtime.store.update(request_id, reason=f"rejected by dpo: {ESCAPES} [link=https://evil.example]x[/link]")
    result = cli("status", "T-3")
    assert result.exit_code == 0, result.output
    assert no_controls(result.output) and "\x1b]8" not in result.output
    assert "\\x1b[2J" in result.output and "[link=https://evil.example]x[/link]" in result.output


def test_hold_list_shows_a_stored_reason_with_escapes_as_text(cli, runtime):
    # Stored as it is (written before the console stripped controls, or by anyone with Redis access).
    runtime.holds().add_conversation("conv-1", f"litigation {ESCAPES} [link=https://evil.example]file[/link]",
                                     basis="basis [/b]")
    result = cli("hold", "list")
    assert result.exit_code == 0, result.output
    assert no_controls(result.output) and "\x1b]8" not in result.output
    assert "[link=https://evil.example]file[/link]" in result.output and "basis [/b]" in result.output


def test_approve_show_prints_platform_ids_as_text(cli, runtime):
    request_id = submitted(runtime, "T-4")
    review = ExportReview(status="summarised", summary=ExportSummary(files=1, conversations=1),
                          missed_conversation_ids=[f"c-1{ESCAPES}"])
    runtime.store.update(request_id, review=review)
    put_state(runtime, request_id, RequestState.AWAITING_APPROVAL)
    result = cli("approve", "T-4", "--show")
    assert result.exit_code == 0, result.output
    # Not a platform id's shape: counted, never printed (services.review_text); no control reaches the terminal.
    assert no_controls(result.output) and "1 not shown" in result.output and "PWNED" not in result.output


def test_a_refusal_naming_a_ticket_that_looks_like_markup_is_one_line(cli, runtime):
    result = cli("approve", "[/red][link=https://evil.example]x", "--show")
    assert result.exit_code == 2
    assert "[link=https://evil.example]x" in result.output and "\x1b]8" not in result.output
