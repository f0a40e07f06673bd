"""Discovery finds a web-messaging guest's chats by the journey cookie alone (``journeyCustomerId``), the
way a chat held before the guest gave an email or a contact id would only be found."""

from __future__ import annotations

from typing import Any

import httpx

from services.discovery.conversations import belongs_to, predicates_for
from shared.genesys.models import ConversationQueryResponse
from shared.models import Subject


def test_a_journey_cookie_alone_finds_the_guests_web_chats(raw: httpx.Client, api: httpx.Client,
                                                             subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    cookie = subject["journey_cookie_ids"][0]
    held = {m["id"] for m in raw.post("/_sim/find", json={"values": [cookie]}).json()["matches"]
            if m["kind"] == "conversation"}
    assert held, "the seeded subject has web chats carrying its cookie"

    by_cookie = Subject(cookie_ids=[cookie])
    predicates = predicates_for(by_cookie)
    assert [p["dimension"] for p in predicates] == ["journeyCustomerId"]
    answer = api.post("/api/v2/analytics/conversations/details/query", json={
        "interval": "2000-01-01T00:00:00.000Z/2100-01-01T00:00:00.000Z",
        "segmentFilters": [{"type": "or", "predicates": predicates}],
        "paging": {"pageSize": 100, "pageNumber": 1}})
    assert answer.status_code == 200, answer.text
    found = ConversationQueryResponse.model_validate(answer.json()).conversations
    assert {c.conversation_id for c in found} == held
    assert all(belongs_to(c, by_cookie) for c in found)
    assert not any(belongs_to(c, Subject(cookie_ids=["someone-else"])) for c in found)
