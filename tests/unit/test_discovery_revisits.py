"""A subject with a conversation still going on is looked at again later, by one chain of looks only."""

from __future__ import annotations

import pytest

from services.discovery import tasks
from shared import celery_app
from shared.genesys.models import AnalyticsConversation
from shared.models import ErasureRecord, RequestState, Subject, utcnow


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args, kw)))
    return calls


def test_a_second_delivery_soon_after_adds_no_second_chain_of_looks(runtime, sent):
    record = ErasureRecord(request_id="a1", ticket="T-a1", verified_at=utcnow(), state=RequestState.DISCOVERING,
                           subject=Subject(emails=["jane@example.org"]))
    runtime.store.save(record)
    ongoing = [AnalyticsConversation.model_validate({"conversationId": "conv-1", "participants": []})]

    assert tasks._still_active(runtime, runtime.store.get("a1"), ongoing)
    assert tasks._still_active(runtime, runtime.store.get("a1"), ongoing)  # e.g. a resume re-sent it

    assert len(sent) == 1 and sent[0][2]["countdown"] == runtime.settings.active_revisit_s
    assert runtime.store.get("a1").discovery_attempts == 1
