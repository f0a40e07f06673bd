"""What every pool's task relies on: handing requests on, and ends that scrub what they no longer need."""

from __future__ import annotations

import pytest

from shared import pipeline
from shared.models import ErasureRecord, RequestState, Subject, utcnow


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(pipeline.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def test_requests_moved_on_are_handed_on_even_when_a_later_one_raises(sent):
    ready: list[str] = []
    with pytest.raises(RuntimeError), pipeline.handing_on("next.stage", ready):
        ready.append("r1")
        raise RuntimeError("the second request of the batch hit a 5xx")
    assert sent == [("next.stage", [["r1"]])]


def test_nothing_is_sent_for_an_empty_hand_on(sent):
    with pipeline.handing_on("next.stage", []):
        pass
    assert sent == []


def test_a_failed_request_keeps_no_identifier_in_clear(runtime):
    record = runtime.store.create(ErasureRecord(
        ticket="F-1", subject=Subject(emails=["jane.doe@example.org"], phones=["+447700900123"], names=["Jane Doe"]),
        verified_at=utcnow()))
    failed = pipeline.transition(runtime, record.request_id, RequestState.FAILED, "request.failed", reason="boom")
    assert failed is not None and failed.scrubbed
    raw = runtime.redis.get(runtime.keys.request(record.request_id))
    assert "jane.doe@example.org" not in raw and "+447700900123" not in raw and "Jane Doe" not in raw
    assert runtime.store.get(record.request_id).state is RequestState.FAILED
    assert [e["event"] for e in runtime.audit.entries()][-2:] == ["request.failed", "request.scrubbed"]
