"""Reading one subject's transcripts with the PII engine.

What the subject typed that the identity does not hold yet (a second email, another number)
belongs to the subject: it goes back into the identity. Cards, IBANs and national ids mark the
conversation for the deletion scope. The masked transcript is kept for an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.genesys import GenesysClient
from shared.identifiers import try_normalize_email, try_normalize_phone
from shared.models import Subject
from shared.pii import CREDIT_CARD, EMAIL, IBAN, PHONE, SUBJECT, US_SSN, KnownSubject, default_engine, phone_identifier

SENSITIVE = {CREDIT_CARD, IBAN, US_SSN}


@dataclass
class ScanResult:
    messages: int = 0
    mentions: int = 0
    new_identifiers: Subject = field(default_factory=Subject)
    sensitive_conversation_ids: list[str] = field(default_factory=list)
    message_ids: dict[str, list[str]] = field(default_factory=dict)
    redacted: dict[str, list[str]] = field(default_factory=dict)


def scan_transcripts(client: GenesysClient, identity: Subject, conversation_ids: list[str]) -> ScanResult:
    engine = default_engine()
    known = KnownSubject(emails=identity.emails, phones=identity.phones, names=identity.names)
    result = ScanResult()
    feed_back = identity.user_id is None
    new_emails: list[str] = []
    new_phones: list[str] = []
    for conversation_id in conversation_ids:
        conversation = client.get_message_conversation(conversation_id)
        if conversation is None:
            continue
        result.message_ids[conversation_id] = conversation.message_ids()
        lines: list[str] = []
        for message in client.get_messages_bulk(conversation_id, result.message_ids[conversation_id]):
            result.messages += 1
            text = message.text
            masked, entities = engine.redact(text, known)
            lines.append(masked)
            result.mentions += sum(1 for e in entities if e.type == SUBJECT)
            if any(e.type in SENSITIVE for e in entities) and conversation_id not in result.sensitive_conversation_ids:
                result.sensitive_conversation_ids.append(conversation_id)
            if not feed_back or not message.from_customer:
                # Only what the subject typed is theirs. A former agent's chats carry the customers'
                # addresses (and the agent's text the organisation's): never the agent's identity.
                continue
            for entity in entities:
                # A span marked SUBJECT can still be a new address of the subject: one that spells
                # their name (jane.doe@elsewhere.org) is matched by name, not by a known value.
                value = text[entity.start:entity.end]
                email = try_normalize_email(value) if entity.type in (EMAIL, SUBJECT) else None
                # A phone number joins the identity only when the numbering plan validates it (in
                # E.164): a phone-shaped number is masked above but searched for nowhere.
                phone = (
                    None if email
                    else phone_identifier(text, entity) if entity.type == PHONE
                    else try_normalize_phone(value) if entity.type == SUBJECT
                    else None
                )
                if email and email not in identity.emails:
                    new_emails.append(email)
                elif phone and phone not in identity.phones:
                    new_phones.append(phone)
        result.redacted[conversation_id] = lines
    result.new_identifiers = Subject(emails=list(dict.fromkeys(new_emails)), phones=list(dict.fromkeys(new_phones)))
    return result
