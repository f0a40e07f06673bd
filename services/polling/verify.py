"""Verification by reading back: after the platform says COMPLETED, look for the subjects again.

For a batch: the known conversations are read back by id (a hundred per call, no interval), the
transcripts read during redaction are read again (one bulk call per conversation; a conversation gone
altogether counts as erased), the deleted contacts of the whole batch are asked for in one bulk
read, and the GDPR subject search is asked once per subject. Anything still carrying an identifier
(an email, a phone, a name that went with the GDPR_DELETE, one of the subject's external contact ids or
journey cookies) is a remnant, reported by kind and id, never by value. The conversations sent to recording DELETE
jobs must have no recording left (held ones are withheld, not remnants), and a step the platform
refused (409) is a remnant too.
"""

from __future__ import annotations

from shared.anonymise import holds_placeholder
from shared.genesys import ContactReads, GenesysClient, GenesysError, NotFound, bulk_chunks
from shared.genesys.models import AnalyticsConversation
from shared.identifiers import phone_digits
from shared.metrics import VERIFICATION_REMNANTS
from shared.models import ErasureRecord, RequestKind, Subject, Verification
from shared.pipeline import TRANSIENT


class _Matcher:
    def __init__(self, identity: Subject, names: bool = True) -> None:
        self.emails = {e.lower() for e in identity.emails}
        self.phones = {phone_digits(p) for p in identity.phones}
        # Names are checked only when they went with the GDPR_DELETE (the operator's opt-in): otherwise the
        # platform was never asked to erase them, and the certificate lists them as withheld instead.
        self.names = {n.lower() for n in identity.names if len(n) >= 4} if names else set()

    def holds(self, text: str) -> bool:
        lowered = text.lower()
        if any(e in lowered for e in self.emails) or any(n in lowered for n in self.names):
            return True
        digits = phone_digits(text)
        return bool(digits) and any(p and p in digits for p in self.phones)


def _read_conversations(client: GenesysClient, ids: list[str]) -> dict[str, AnalyticsConversation]:
    # By id, not by a query over all time: the synchronous query refuses long intervals.
    return {c.conversation_id: c for c in client.get_conversation_details(ids)}


def _journey_cookies(conversation: AnalyticsConversation) -> set[str]:
    """The web-messaging journey cookie ids a conversation still carries (``journeyCustomerId``)."""
    return {s.journey_customer_id for p in conversation.participants for s in p.sessions if s.journey_customer_id}


def _contact_ids(conversation: AnalyticsConversation) -> set[str]:
    """The external contact ids a conversation's participants still carry: each of the subject's is named by
    one of its GDPR_DELETEs (a request reaches only the one contact it names)."""
    return {p.external_contact_id for p in conversation.participants if p.external_contact_id}


def _recording_remnants(client: GenesysClient, record: ErasureRecord) -> list[str]:
    held = {w.id for w in record.withheld if w.kind == "conversation"}
    out: list[str] = []
    for conversation_id in record.recording_conversation_ids:
        if conversation_id in held:
            continue
        recordings = client.conversation_recordings(conversation_id)
        if recordings is None:
            out.append(f"recording:{conversation_id}/pending")
        else:
            out += [f"recording:{conversation_id}/{r.id}" for r in recordings]
    return out + [f"blocked:{b.split(':')[0]}" for b in record.blocked]


def read_back_conversations(client: GenesysClient, records: list[ErasureRecord]) -> dict[str, AnalyticsConversation]:
    """The known conversations of a whole batch, read by id a hundred per call."""
    return _read_conversations(client, list(dict.fromkeys(cid for r in records for cid in r.conversation_ids)))


def read_back_contacts(client: GenesysClient, records: list[ErasureRecord]) -> ContactReads:
    """The external contacts of a whole batch, read a hundred per call: those still there, and those
    that could not be read (a call refused outright counts for every id it carried)."""
    reads = ContactReads()
    for chunk in bulk_chunks([c for r in records for c in r.erasable_identity.external_contact_ids]):
        try:
            part = client.get_contacts_bulk(chunk)
        except TRANSIENT:
            raise
        except GenesysError as exc:
            part = ContactReads(errors=dict.fromkeys(chunk, exc))
        reads.found.update(part.found)
        reads.errors.update(part.errors)
    return reads


def _anonymise_remnants(record: ErasureRecord, conversations: dict[str, AnalyticsConversation],
                        messages: dict[str, list[str]]) -> list[str]:
    """An anonymise request keeps the records: every known conversation (those still in progress aside, the
    platform leaves them as they are) must read back, and carry a placeholder where the subject was, in its
    fields or its messages. The old values being gone is the common check above."""
    out: list[str] = []
    for conversation_id in record.conversation_ids:
        if conversation_id in record.active_conversation_ids:
            continue
        conversation = conversations.get(conversation_id)
        if conversation is None:
            out.append(f"conversation:{conversation_id}/missing")
        elif not any(holds_placeholder(v) for v in [*conversation.identifying_values(),
                                                    *messages.get(conversation_id, [])]):
            out.append(f"conversation:{conversation_id}/no_placeholder")
    return out


def verify_one(client: GenesysClient, record: ErasureRecord, conversations: dict[str, AnalyticsConversation],
               contacts: ContactReads) -> Verification:
    """Read one request's data back; ``conversations`` and ``contacts`` come from
    ``read_back_conversations`` and ``read_back_contacts`` for its batch."""
    identity = record.erasable_identity
    matcher = _Matcher(identity, names=record.gdpr_names_sent)
    # A journey cookie has no ReplacementTerm type: an anonymise cannot rewrite it, and the certificate
    # lists it as withheld (shared.certificate.COOKIE_BASIS) rather than this check failing it for ever.
    cookies = set() if record.kind is RequestKind.ANONYMISE else set(identity.cookie_ids)
    remnants: list[str] = []
    messages_read: dict[str, list[str]] = {}
    for conversation_id in record.conversation_ids:
        conversation = conversations.get(conversation_id)
        if conversation and (any(matcher.holds(v) for v in conversation.identifying_values())
                             or _journey_cookies(conversation) & cookies
                             or _contact_ids(conversation) & set(identity.external_contact_ids)):
            remnants.append(f"conversation:{conversation_id}")
    for conversation_id, message_ids in record.message_ids.items():
        try:
            messages = client.get_messages_bulk(conversation_id, message_ids)
        except NotFound:
            continue  # the conversation is gone altogether: nothing of the subject left in it
        messages_read.setdefault(conversation_id, []).extend(m.text for m in messages)
        for message in messages:
            if matcher.holds(message.text):
                remnants.append(f"message:{conversation_id}/{message.id}")
    for contact_id in identity.external_contact_ids:
        if contact_id in contacts.errors:
            raise contacts.errors[contact_id]  # unreadable is not gone: this request cannot be verified yet
        found = contacts.found.get(contact_id)
        if found is None:
            continue
        if record.kind is RequestKind.ANONYMISE and contact_id not in record.contacts_deleted:
            # Kept (ERASURE_ANONYMISE_CONTACTS=keep): it stays, but none of the old values may be on it.
            if any(matcher.holds(v) for v in [*found.emails(), *found.phones()]):
                remnants.append(f"external_contact:{contact_id}")
        else:
            remnants.append(f"external_contact:{contact_id}")
    if record.kind is RequestKind.ANONYMISE:
        remnants += _anonymise_remnants(record, conversations, messages_read)
    probe = (("EMAIL", identity.emails[0]) if identity.emails
             else ("PHONE", identity.phones[0]) if identity.phones else None)
    if probe and client.search_gdpr_subjects(*probe):
        remnants.append(f"gdpr_subject:{probe[0].lower()}")
    remnants += _recording_remnants(client, record)
    remnants = list(dict.fromkeys(remnants))
    for remnant in remnants:
        VERIFICATION_REMNANTS.labels(remnant_kind(remnant)).inc()
    return Verification(
        ok=not remnants,
        checked_conversations=len(record.conversation_ids),
        checked_identifiers=len(identity.values()),
        remnants=remnants,
    )


#: What a remnant is, as the metric's label: the part before the first colon, from this fixed set.
REMNANT_KINDS = frozenset({"conversation", "message", "external_contact", "gdpr_subject", "recording", "blocked"})


def remnant_kind(remnant: str) -> str:
    """The kind of a remnant (``conversation:<id>`` -> ``conversation``); "other" for anything else, so an
    id never becomes a label value."""
    kind = remnant.split(":", 1)[0]
    return kind if kind in REMNANT_KINDS else "other"
