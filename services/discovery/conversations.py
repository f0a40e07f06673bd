"""Finding the conversations that hold a subject's identifiers (analytics conversation details).

Emails match ``addressFrom``/``addressTo`` (there is no email dimension), phones match
``ani``/``dnis`` (calls) and ``addressFrom``/``addressTo`` (SMS), contacts match ``externalContactId``. The request's date window bounds the
interval, so a recycled number's later owner is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.genesys import GenesysClient
from shared.genesys.models import AnalyticsConversation
from shared.models import Subject

PAGE_SIZE = 100


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def predicates_for(subject: Subject) -> list[dict[str, str]]:
    preds: list[dict[str, str]] = []
    for email in subject.emails:
        preds += [{"type": "dimension", "dimension": d, "operator": "matches", "value": email}
                  for d in ("addressFrom", "addressTo")]
    for phone in subject.phones:
        preds += [{"type": "dimension", "dimension": d, "operator": "matches", "value": f"tel:{phone}"}
                  for d in ("ani", "dnis")]
        # SMS and WhatsApp conversations carry the number as a message address, not as ANI/DNIS.
        preds += [{"type": "dimension", "dimension": d, "operator": "matches", "value": phone}
                  for d in ("addressFrom", "addressTo")]
    preds += [{"type": "dimension", "dimension": "externalContactId", "operator": "matches", "value": c}
              for c in subject.external_contact_ids]
    return preds


def find_conversations(client: GenesysClient, subject: Subject, start: datetime,
                       end: datetime) -> list[AnalyticsConversation]:
    predicates = predicates_for(subject)
    if not predicates:
        return []
    found: dict[str, AnalyticsConversation] = {}
    # The sync query takes a bounded number of predicates per clause; keep chunks modest.
    for chunk_start in range(0, len(predicates), 20):
        chunk = predicates[chunk_start:chunk_start + 20]
        page = 1
        while True:
            query: dict[str, Any] = {
                "interval": f"{_iso(start)}/{_iso(end)}",
                "order": "asc",
                "orderBy": "conversationStart",
                "segmentFilters": [{"type": "or", "predicates": chunk}],
                "paging": {"pageSize": PAGE_SIZE, "pageNumber": page},
            }
            response = client.query_conversation_details(query)
            for conversation in response.conversations:
                found.setdefault(conversation.conversation_id, conversation)
            if len(response.conversations) < PAGE_SIZE:
                break
            page += 1
    return list(found.values())


def default_interval(verified_at: datetime, lookback_days: int, now: datetime) -> tuple[datetime, datetime]:
    return verified_at - timedelta(days=lookback_days), now + timedelta(minutes=1)
