"""The effect ledger: an intent before a platform call, the platform's id after it, once per request and effect."""

from __future__ import annotations

from datetime import datetime

from shared.effects import EffectRecord
from shared.models import utcnow


def raw(runtime, request_id, effect):
    return runtime.redis.hgetall(runtime.keys.effect(request_id, effect))


def test_nothing_recorded_is_none(runtime):
    assert runtime.effects.get("r1", "gdpr_delete") is None


def test_the_first_intent_wins_and_carries_no_platform_id(runtime):
    before = utcnow()
    assert runtime.effects.record_intent("r1", "gdpr_delete") is True
    assert runtime.effects.record_intent("r1", "gdpr_delete") is False  # a second delivery, or a second worker

    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="intent", platform_id=None)
    # When the call may have gone out: what an operator checking the platform by hand looks for.
    stamp = datetime.fromisoformat(raw(runtime, "r1", "gdpr_delete")["intent_at"])
    assert before <= stamp <= utcnow()


def test_the_result_replaces_the_intent_and_is_final(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")
    before = utcnow()
    runtime.effects.record_done("r1", "gdpr_delete", "gdpr-42")

    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="done", platform_id="gdpr-42")
    assert runtime.effects.record_intent("r1", "gdpr_delete") is False
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="done", platform_id="gdpr-42")
    stored = raw(runtime, "r1", "gdpr_delete")
    assert before <= datetime.fromisoformat(stored["done_at"]) <= utcnow()
    assert datetime.fromisoformat(stored["intent_at"]) <= datetime.fromisoformat(stored["done_at"])


def test_a_result_recorded_without_an_intent_is_still_found(runtime):
    """Reconciliation records what it found in the platform's list; a redelivery then stops there."""
    runtime.effects.record_done("r1", "recording_job:0:0", "job-7")
    assert runtime.effects.get("r1", "recording_job:0:0") == EffectRecord(state="done", platform_id="job-7")
    assert runtime.effects.record_intent("r1", "recording_job:0:0") is False


def test_each_request_and_effect_has_its_own_entry(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")
    runtime.effects.record_done("r1", "gdpr_delete", "gdpr-1")

    assert runtime.effects.get("r2", "gdpr_delete") is None
    assert runtime.effects.get("r1", "user_delete") is None
    assert runtime.effects.record_intent("r2", "gdpr_delete") is True
    assert runtime.effects.record_intent("r1", "user_delete") is True
    assert runtime.effects.get("r1", "gdpr_delete").platform_id == "gdpr-1"
