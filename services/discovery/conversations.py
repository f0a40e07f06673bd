"""Finding the conversations that hold subjects' identifiers (analytics conversation details).

Emails match ``addressFrom``/``addressTo`` (there is no email dimension), phones match
``ani``/``dnis`` (calls) and ``addressFrom``/``addressTo`` (SMS), contacts match
``externalContactId``, a web-messaging guest's journey cookie ``journeyCustomerId``. One query serves a
whole batch of subjects: their predicates are OR-ed and each conversation found is given back to the
subjects whose identifiers it carries. A request's date window bounds its interval, so a recycled
number's later owner is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shared.genesys import GenesysClient
from shared.genesys.models import AnalyticsConversation
from shared.identifiers import phone_digits
from shared.models import Subject

PAGE_SIZE = 100
PREDICATES_PER_QUERY = 100
# Longest interval of one synchronous query; the platform's cap is unconfirmed and shared/config.py's
# sync_query_max_days (same default) is what discovery passes.
SYNC_WINDOW_DAYS = 31


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
    # A web-messaging guest's journey cookie (a session dimension): a guest chat held before the guest gave an
    # email, or never linked to the contact, carries only this.
    preds += [{"type": "dimension", "dimension": "journeyCustomerId", "operator": "matches", "value": c}
              for c in subject.cookie_ids]
    if subject.user_id:
        preds.append({"type": "dimension", "dimension": "userId", "operator": "matches", "value": subject.user_id})
    return preds


def query_conversations(client: GenesysClient, predicates: list[dict[str, str]], start: datetime,
                        end: datetime, *, max_days: int = SYNC_WINDOW_DAYS) -> list[AnalyticsConversation]:
    """Every conversation started in [start, end) matching any predicate, across pages, asked in
    windows of at most ``max_days`` (the synchronous query refuses long intervals)."""
    found: dict[str, AnalyticsConversation] = {}
    window_start = start
    while window_start < end:
        window_end = min(end, window_start + timedelta(days=max_days))
        for conversation in _query_window(client, predicates, window_start, window_end):
            found.setdefault(conversation.conversation_id, conversation)
        window_start = window_end
    return list(found.values())


def _query_window(client: GenesysClient, predicates: list[dict[str, str]], start: datetime,
                  end: datetime) -> list[AnalyticsConversation]:
    found: list[AnalyticsConversation] = []
    for chunk_start in range(0, len(predicates), PREDICATES_PER_QUERY):
        chunk = predicates[chunk_start:chunk_start + PREDICATES_PER_QUERY]
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
            found += response.conversations
            if len(response.conversations) < PAGE_SIZE:
                break
            page += 1
    return found


def belongs_to(conversation: AnalyticsConversation, subject: Subject) -> bool:
    """Does this conversation carry one of the subject's identifiers?"""
    emails = {e.lower() for e in subject.emails}
    phones = {phone_digits(p) for p in subject.phones}
    contacts = set(subject.external_contact_ids)
    cookies = set(subject.cookie_ids)
    for participant in conversation.participants:
        if participant.external_contact_id in contacts:
            return True
        if subject.user_id and participant.user_id == subject.user_id:
            return True
        for session in participant.sessions:
            if session.journey_customer_id and session.journey_customer_id in cookies:
                return True
            for value in (session.address_from, session.address_to, session.ani, session.dnis):
                if not value:
                    continue
                if value.lower() in emails or phone_digits(value) in phones:
                    return True
    return False


def assign(conversations: Iterable[AnalyticsConversation],
           subjects: dict[str, Subject]) -> dict[str, list[AnalyticsConversation]]:
    """Give each conversation to every subject (by request id) whose identifiers it carries."""
    out: dict[str, list[AnalyticsConversation]] = {request_id: [] for request_id in subjects}
    for conversation in conversations:
        for request_id, subject in subjects.items():
            if belongs_to(conversation, subject):
                out[request_id].append(conversation)
    return out


def default_interval(verified_at: datetime, lookback_days: int, now: datetime) -> tuple[datetime, datetime]:
    return verified_at - timedelta(days=lookback_days), now + timedelta(minutes=1)
