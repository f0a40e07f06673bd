"""Identity resolution: from the identifiers given to every identifier of the subject.

Each value nobody has explained yet (given by the requester, not seen in any record fetched so
far) is looked up through the GDPR subject search, and through the external-contact identifier
lookup when the search knows nothing. Every contact reached is read once, with its merge links
(canonical contact, merge set), so an identity spread over merged contacts is found whole.
Whatever a record returns joins the identity and is explained by it: a value seen in a record
needs no search of its own. This repeats until nothing new appears or the bound is reached.
Provenance is kept as counts per source, never values.

A batch is resolved together, round by round: the searches are each subject's own (the platform
searches one value at a time), but the contacts every subject of the batch reached in a round are
read in one bulk call, a hundred ids each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from shared.genesys import ContactReads, GenesysClient
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
        cookie_ids=[found.journey_customer.id] if found.journey_customer is not None
        and found.journey_customer.type.lower() == "cookie" else [],
    )


def _from_contact(contact: ExternalContact) -> Subject:
    name = contact.full_name()
    return Subject(
        emails=[e for e in (try_normalize_email(v) for v in contact.emails()) if e],
        phones=[p for p in (try_normalize_phone(v) for v in contact.phones()) if p],
        names=[name] if name else [],
        external_contact_ids=[contact.id, *contact.linked_contact_ids()],
        cookie_ids=contact.cookies(),
    )


class _Resolver:
    """One subject's resolution state across the rounds of its batch."""

    def __init__(self, client: GenesysClient, start: Subject, max_identifiers: int) -> None:
        self.client = client
        self.result = ResolvedIdentity(subject=start)
        self.max_identifiers = max_identifiers
        self.explained: set[str] = set()
        self.searched: set[str] = set()
        self.contacts_read: set[str] = set()
        self.finished = False

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

    def add_user(self, user_id: str) -> None:
        """A former agent: the user record's name and email join the identity."""
        user = self.client.get_user(user_id)
        if user is not None:
            email = try_normalize_email(user.email) if user.email else None
            self.absorb("user", Subject(names=[user.name] if user.name else [], emails=[email] if email else []))

    def search(self) -> list[str]:
        """The searches of one round; returns the contacts to read in it. Finishes the subject
        when there is nothing left to look up or the bound was hit."""
        searches = self.unexplained()
        if not searches and not self.unread_contacts():
            self.finished = True
            return []
        for kind, value in searches:
            if value in self.explained:  # an earlier search of this round already returned it
                continue
            self.searched.add(value)
            found = self.client.search_gdpr_subjects(kind, value)
            for subject in found:
                if not self.absorb("gdpr_subject_search", _from_gdpr_subject(subject)):
                    self.finished = True
                    return []
            if not found:
                contact = self.client.lookup_contact("Email" if kind == "EMAIL" else "Phone", value)
                if contact is not None:
                    self.contacts_read.add(contact.id)
                    if not self.absorb("external_contact_lookup", _from_contact(contact)):
                        self.finished = True
                        return []
        wanted = self.unread_contacts()
        self.contacts_read.update(wanted)
        return wanted

    def read(self, wanted: list[str], fetched: Mapping[str, ExternalContact]) -> None:
        """Absorb the contacts this subject asked for in the round; ends the round."""
        for contact_id in wanted:
            contact = fetched.get(contact_id)
            if contact is not None and not self.absorb("external_contact", _from_contact(contact)):
                self.finished = True
                return
        self.result.rounds += 1


Guard = Callable[[str], AbstractContextManager[None]]


@contextmanager
def _unguarded(_key: str) -> Iterator[None]:
    yield


@contextmanager
def _step(guard: Guard, key: str, failed: set[str]) -> Iterator[None]:
    """One subject's step under its guard; a failure the guard swallowed puts the key in ``failed``."""
    completed = False
    with guard(key):
        yield
        completed = True
    if not completed:
        failed.add(key)


def resolve_identities(client: GenesysClient, starts: Mapping[str, Subject], *, max_rounds: int,
                       max_identifiers: int, guard: Guard = _unguarded,
                       on_resolved: Callable[[str, ResolvedIdentity], None] | None = None,
                       ) -> dict[str, ResolvedIdentity]:
    """Resolve a batch of subjects, keyed as given.

    ``guard(key)`` wraps each subject's own steps (the discovery task fails that request alone on a
    permanent error); a key whose step failed is left out of the answer. ``on_resolved(key, result)``
    is called, under the guard, as soon as a subject is done, so a batch interrupted later (a
    rate-limit wait, a 5xx) keeps what it finished.
    """
    resolvers = {key: _Resolver(client, start, max_identifiers) for key, start in starts.items()}
    failed: set[str] = set()
    for key, resolver in resolvers.items():
        user_id = resolver.result.subject.user_id
        if user_id:
            with _step(guard, key, failed):
                resolver.add_user(user_id)
    live = {k: r for k, r in resolvers.items() if k not in failed}
    rounds = 0
    while live and rounds < max_rounds:
        rounds += 1
        wanted: dict[str, list[str]] = {}
        for key, resolver in live.items():
            with _step(guard, key, failed):
                wanted[key] = resolver.search()
        contact_ids = list(dict.fromkeys(c for ids in wanted.values() for c in ids))
        reads = ContactReads()
        failure: Exception | None = None
        if contact_ids:
            try:
                reads = client.get_contacts_bulk(contact_ids)
            except Exception as exc:  # each subject's guard decides what it means (transient: the batch retries)
                failure = exc
        for key, ids in wanted.items():
            resolver = live[key]
            if resolver.finished:
                continue
            with _step(guard, key, failed):
                if failure is not None and ids:
                    raise failure
                unreadable = [reads.errors[c] for c in ids if c in reads.errors]
                if unreadable:  # one of its own contacts could not be read: this subject, not the batch
                    raise unreadable[0]
                resolver.read(ids, reads.found)
        for key in [k for k, r in live.items() if k not in failed and r.finished]:
            _resolved(guard, key, live[key], failed, on_resolved)
        live = {k: r for k, r in live.items() if k not in failed and not r.finished}
    for key, resolver in live.items():  # out of rounds with work left: say so
        resolver.result.truncated = bool(resolver.unexplained() or resolver.unread_contacts())
        _resolved(guard, key, resolver, failed, on_resolved)
    return {key: resolver.result for key, resolver in resolvers.items() if key not in failed}


def _resolved(guard: Guard, key: str, resolver: _Resolver, failed: set[str],
              on_resolved: Callable[[str, ResolvedIdentity], None] | None) -> None:
    if on_resolved is not None:
        with _step(guard, key, failed):
            on_resolved(key, resolver.result)


def resolve_identity(client: GenesysClient, start: Subject, *, max_rounds: int,
                     max_identifiers: int) -> ResolvedIdentity:
    """One subject alone (a batch of one)."""
    return resolve_identities(client, {"subject": start}, max_rounds=max_rounds,
                              max_identifiers=max_identifiers)["subject"]
