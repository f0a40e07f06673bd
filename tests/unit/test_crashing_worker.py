"""The crash tests' harness (tests/support/crashing_worker.py): a worker killed between a platform call's
answer and the ledger's record of it, only for the effect asked for. Production code has no crash point;
without the harness the ledger never kills anything."""

from __future__ import annotations

import os
import signal

import pytest

from shared.effects import Done, EffectLedger, EffectRecord
from tests.support.crashing_worker import crashing, install, kinds, split_args


class Killed(BaseException):
    """What the fake SIGKILL raises: the test process lives on, the code after the kill never runs."""


@pytest.fixture
def kills(monkeypatch):
    """Signals sent, recorded instead of delivered (and the rest of the step cut short, as a kill would)."""
    sent: list[tuple[int, int]] = []

    def kill(pid, sig):
        sent.append((pid, sig))
        raise Killed

    monkeypatch.setattr(os, "kill", kill)
    return sent


def crash_after(monkeypatch, *names: str) -> None:
    monkeypatch.setattr(EffectLedger, "record_outcome", crashing(EffectLedger.record_outcome, kinds(names)))


def made(runtime, effect, platform_id="p-1"):
    calls = []
    outcome = runtime.effects.once("r1", effect, lambda: calls.append(effect) or Done(platform_id))
    return outcome, calls


def test_crash_point_is_inert_without_the_test_variable(runtime, kills):
    """Without the harness (production), every effect is recorded and nothing is killed."""
    for effect in ("gdpr_delete", "recording_job:0:0", "recording_job:0:0:start", "user_delete", "contact:ab"):
        made(runtime, effect)
        assert runtime.effects.get("r1", effect) == EffectRecord(state="done", platform_id="p-1")
    assert kills == []


def test_crash_point_is_inert_when_another_point_is_named(runtime, kills, monkeypatch):
    crash_after(monkeypatch, "recording_job,user_delete")
    made(runtime, "gdpr_delete")
    assert kills == []
    assert runtime.effects.get("r1", "gdpr_delete").platform_id == "p-1"


def test_the_named_crash_point_kills_its_own_process_outright(runtime, kills, monkeypatch):
    crash_after(monkeypatch, " recording_job , gdpr_delete ")
    with pytest.raises(Killed):
        made(runtime, "gdpr_delete")
    assert kills == [(os.getpid(), signal.SIGKILL)]  # SIGKILL: no handler, no cleanup, as a lost worker
    # The platform has acted, the ledger knows only the intent: what the redelivery must reconcile.
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="intent", platform_id=None)


def test_a_kind_names_every_effect_of_that_kind_and_no_other(runtime, kills, monkeypatch):
    crash_after(monkeypatch, "recording_job")
    with pytest.raises(Killed):
        made(runtime, "recording_job:1:3")
    made(runtime, "recording_jobs_other")  # a different kind that merely starts alike
    assert len(kills) == 1
    assert runtime.effects.get("r1", "recording_jobs_other").platform_id == "p-1"


def test_the_command_line_splits_into_crash_kinds_and_the_celery_command():
    argv = ["--crash-after", "gdpr_delete", "--crash-after", "recording_job, ,user_delete",
            "-A", "shared.celery_app", "worker", "-Q", "deletion", "-c", "1"]
    assert split_args(argv) == (frozenset({"gdpr_delete", "recording_job", "user_delete"}),
                                ["-A", "shared.celery_app", "worker", "-Q", "deletion", "-c", "1"])
    assert split_args(["worker", "--crash-after", "x"]) == (frozenset(), ["worker", "--crash-after", "x"])
    with pytest.raises(SystemExit):
        split_args(["--crash-after"])


def test_installing_nothing_leaves_the_ledger_alone(monkeypatch):
    original = EffectLedger.record_outcome
    monkeypatch.setattr(EffectLedger, "record_outcome", original)  # restored after the test either way
    install(frozenset())
    assert EffectLedger.record_outcome is original
    install(frozenset({"gdpr_delete"}))
    assert EffectLedger.record_outcome is not original
