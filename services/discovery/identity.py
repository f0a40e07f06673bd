"""Identity resolution: from the identifiers given to every identifier of the subject.

Each known email or phone is looked up through the GDPR subject search and the external-contact
identifier lookup, each contact is read with its merge links (canonical contact, merge set);
whatever they return joins the identity and is looked up in turn, until nothing new appears or
the bound is reached. Provenance is kept as counts per source, never values.
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


def _lookups(subject: Subject) -> set[tuple[str, str]]:
    return {("EMAIL", e) for e in subject.emails} | {("PHONE", p) for p in subject.phones} | {
        ("CONTACT", c) for c in subject.external_contact_ids}


def resolve_identity(client: GenesysClient, start: Subject, *, max_rounds: int,
                     max_identifiers: int) -> ResolvedIdentity:
    result = ResolvedIdentity(subject=start)
    done: set[tuple[str, str]] = set()
    for _ in range(max_rounds):
        pending = _lookups(result.subject) - done
        if not pending:
            break
        result.rounds += 1
        for kind, value in sorted(pending):
            done.add((kind, value))
            for source, found in _look_up(client, kind, value):
                before = len(result.subject.values())
                merged = result.subject.merge(found)
                if len(merged.values()) > max_identifiers:
                    result.truncated = True
                    return result
                result.subject = merged
                result.added_by_source[source] += len(merged.values()) - before
    else:
        result.truncated = bool(_lookups(result.subject) - done)
    return result


def _look_up(client: GenesysClient, kind: str, value: str) -> list[tuple[str, Subject]]:
    found: list[tuple[str, Subject]] = []
    if kind in ("EMAIL", "PHONE"):
        found += [("gdpr_subject_search", _from_gdpr_subject(s))
                  for s in client.search_gdpr_subjects(kind, value)]
        contact = client.lookup_contact("Email" if kind == "EMAIL" else "Phone", value)
        if contact is not None:
            found.append(("external_contact_lookup", _from_contact(contact)))
    else:
        contact = client.get_contact(value)
        if contact is not None:
            found.append(("external_contact", _from_contact(contact)))
    return found
