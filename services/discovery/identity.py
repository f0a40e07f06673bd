"""Identity resolution: from the identifiers given to every identifier of the subject.

Each value nobody has explained yet (given by the requester, not seen in any record fetched so
far) is looked up through the GDPR subject search, and through the external-contact identifier
lookup when the search knows nothing. Every contact reached is read once, with its merge links
(canonical contact, merge set), so an identity spread over merged contacts is found whole.
Whatever a record returns joins the identity and is explained by it: a value seen in a record
needs no search of its own. This repeats until nothing new appears or the bound is reached.
Provenance is kept as counts per source, never values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from shared.genesys import GenesysClient
from shared.genesys.models import ExternalContact, GdprSubject
from shared.identifiers import try_normalize_email, try_normalize_phone
from shared.models import Subject


@dataclass
class ResolvedIdentity:
    subject: Subject
    added_by_source: Counter[str] = field(default_factory=Counter)
    rounds: int = 0
    truncated: bool = False


def _from_gdpr_subject(found: GdprSubject) -> Subject:
    return Subject(
        emails=[e for e in (try_normalize_email(v) for v in found.email_addresses) if e],
        phones=[p for p in (try_normalize_phone(v) for v in found.phone_numbers) if p],
        names=[found.name] if found.name else [],
        external_contact_ids=[found.external_contact_id] if found.external_contact_id else [],
    )


def _from_contact(contact: ExternalContact) -> Subject:
    name = contact.full_name()
    return Subject(
        emails=[e for e in (try_normalize_email(v) for v in contact.emails()) if e],
        phones=[p for p in (try_normalize_phone(v) for v in contact.phones()) if p],
        names=[name] if name else [],
        external_contact_ids=[contact.id, *contact.linked_contact_ids()],
    )


class _Resolver:
    def __init__(self, client: GenesysClient, start: Subject, max_identifiers: int) -> None:
        self.client = client
        self.result = ResolvedIdentity(subject=start)
        self.max_identifiers = max_identifiers
        self.explained: set[str] = set()
        self.searched: set[str] = set()
        self.contacts_read: set[str] = set()

    def absorb(self, source: str, found: Subject) -> bool:
        """Merge a record into the identity; False when the bound would be exceeded."""
        self.explained.update(found.emails + found.phones)
        merged = self.result.subject.merge(found)
        if len(merged.values()) > self.max_identifiers:
            self.result.truncated = True
            return False
        self.result.added_by_source[source] += len(merged.values()) - len(self.result.subject.values())
        self.result.subject = merged
        return True

    def unexplained(self) -> list[tuple[str, str]]:
        subject = self.result.subject
        values = [("EMAIL", e) for e in subject.emails] + [("PHONE", p) for p in subject.phones]
        return [(kind, v) for kind, v in values if v not in self.explained and v not in self.searched]

    def unread_contacts(self) -> list[str]:
        return [c for c in self.result.subject.external_contact_ids if c not in self.contacts_read]

    def round(self) -> bool:
        """One round of look-ups; False when there was nothing left to look up or the bound hit."""
        searches, contacts = self.unexplained(), self.unread_contacts()
        if not searches and not contacts:
            return False
        for kind, value in searches:
            if value in self.explained:  # an earlier search of this round already returned it
                continue
            self.searched.add(value)
            found = self.client.search_gdpr_subjects(kind, value)
            for subject in found:
                if not self.absorb("gdpr_subject_search", _from_gdpr_subject(subject)):
                    return False
            if not found:
                contact = self.client.lookup_contact("Email" if kind == "EMAIL" else "Phone", value)
                if contact is not None:
                    self.contacts_read.add(contact.id)
                    if not self.absorb("external_contact_lookup", _from_contact(contact)):
                        return False
        for contact_id in self.unread_contacts():
            self.contacts_read.add(contact_id)
            contact = self.client.get_contact(contact_id)
            if contact is not None and not self.absorb("external_contact", _from_contact(contact)):
                return False
        return True


def resolve_identity(client: GenesysClient, start: Subject, *, max_rounds: int,
                     max_identifiers: int) -> ResolvedIdentity:
    resolver = _Resolver(client, start, max_identifiers)
    if start.user_id:
        user = client.get_user(start.user_id)
        if user is not None:
            email = try_normalize_email(user.email) if user.email else None
            resolver.absorb("user", Subject(names=[user.name] if user.name else [], emails=[email] if email else []))
    for _ in range(max_rounds):
        if not resolver.round():
            break
        resolver.result.rounds += 1
    else:
        resolver.result.truncated = bool(resolver.unexplained() or resolver.unread_contacts())
    return resolver.result
