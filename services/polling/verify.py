"""Verification by reading back: after the platform says COMPLETED, look for the subject again.

The known conversations are read back (analytics details by conversation id, message bodies),
the subject search and contact lookups are asked again. Anything still carrying an identifier is
a remnant, reported by kind and id, never by value.
"""

from __future__ import annotations

from shared.genesys import GenesysClient
from shared.identifiers import phone_digits
from shared.models import ErasureRecord, Verification


def _holds(text: str, emails: set[str], phone_digit_set: set[str], names: set[str]) -> bool:
    lowered = text.lower()
    if any(e in lowered for e in emails) or any(n in lowered for n in names):
        return True
    digits = phone_digits(text)
    return bool(digits) and any(p and p in digits for p in phone_digit_set)


def verify_erasure(client: GenesysClient, record: ErasureRecord) -> Verification:
    identity = record.effective_identity
    emails = {e.lower() for e in identity.emails}
    phones = {phone_digits(p) for p in identity.phones}
    names = {n.lower() for n in identity.names if len(n) >= 4}
    remnants: list[str] = []

    ids = record.conversation_ids
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        query = {
            "interval": "2000-01-01T00:00:00.000Z/2100-01-01T00:00:00.000Z",
            "conversationFilters": [{"type": "or", "predicates": [
                {"type": "dimension", "dimension": "conversationId", "operator": "matches", "value": cid}
                for cid in chunk]}],
            "paging": {"pageSize": 100, "pageNumber": 1},
        }
        for conversation in client.query_conversation_details(query).conversations:
            if any(_holds(v, emails, phones, names) for v in conversation.identifying_values()):
                remnants.append(f"conversation:{conversation.conversation_id}")

    for conversation_id in record.message_conversation_ids:
        thread = client.get_message_conversation(conversation_id)
        if thread is None:
            continue
        for message in client.get_messages_bulk(conversation_id, thread.message_ids()):
            if _holds(message.text, emails, phones, names):
                remnants.append(f"message:{conversation_id}/{message.id}")

    for email in identity.emails:
        if client.search_gdpr_subjects("EMAIL", email):
            remnants.append("gdpr_subject:email")
    for phone in identity.phones:
        if client.search_gdpr_subjects("PHONE", phone):
            remnants.append("gdpr_subject:phone")
    for contact_id in identity.external_contact_ids:
        if client.get_contact(contact_id) is not None:
            remnants.append(f"external_contact:{contact_id}")

    return Verification(
        ok=not remnants,
        checked_conversations=len(ids),
        checked_identifiers=len(identity.values()),
        remnants=list(dict.fromkeys(remnants)),
    )
