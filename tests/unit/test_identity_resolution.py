"""Identity resolution follows subject search and merged contacts to the whole identity."""

from contextlib import contextmanager

from services.discovery.identity import resolve_identities, resolve_identity
from shared.genesys import ContactReads, PermissionDenied
from shared.genesys.models import ExternalContact, GdprSubject
from shared.models import Subject


class FakeOrg:
    """Two contacts of one person: B (second email, second phone) merged into A."""

    def __init__(self):
        self.calls = []
        self.contacts = {
            "A": ExternalContact.model_validate({
                "id": "A", "firstName": "Jane", "lastName": "Doe", "workEmail": "jane@example.org",
                "cellPhone": {"e164": "+447911123456"}, "mergeSet": [{"id": "A"}, {"id": "B"}]}),
            "B": ExternalContact.model_validate({
                "id": "B", "firstName": "Jane", "lastName": "Doe", "personalEmail": "jd@example.net",
                "homePhone": {"e164": "+14155552671"}, "canonicalContact": {"id": "A"}}),
        }

    def search_gdpr_subjects(self, kind, value):
        self.calls.append(("search", kind))
        if value in ("jane@example.org", "+447911123456"):
            return [GdprSubject(name="Jane Doe", emailAddresses=["jane@example.org"],
                                phoneNumbers=["+447911123456"], externalContactId="A")]
        return []

    def lookup_contact(self, kind, value):
        self.calls.append(("lookup", kind))
        return None

    unreadable: frozenset[str] = frozenset()

    def get_contacts_bulk(self, contact_ids):
        self.calls.append(("contacts", tuple(contact_ids)))
        return ContactReads(
            found={c: self.contacts[c] for c in contact_ids if c in self.contacts and c not in self.unreadable},
            errors={c: PermissionDenied("POST bulk: one id -> 403", status=403) for c in contact_ids
                    if c in self.unreadable})

    def get_user(self, user_id):
        return None


def test_merged_contacts_give_the_whole_identity():
    org = FakeOrg()
    resolved = resolve_identity(org, Subject(emails=["jane@example.org"]), max_rounds=5, max_identifiers=40)
    subject = resolved.subject
    assert set(subject.emails) == {"jane@example.org", "jd@example.net"}
    assert set(subject.phones) == {"+447911123456", "+14155552671"}
    assert set(subject.external_contact_ids) == {"A", "B"}
    assert resolved.added_by_source["gdpr_subject_search"] > 0 and resolved.added_by_source["external_contact"] > 0
    assert not resolved.truncated
    # Values explained by a fetched record are not searched again; each contact is read once.
    assert org.calls.count(("search", "EMAIL")) == 1
    assert ("search", "PHONE") not in org.calls
    assert [c for c in org.calls if c[0] == "contacts"] == [("contacts", ("A",)), ("contacts", ("B",))]


def test_bound_truncates():
    resolved = resolve_identity(FakeOrg(), Subject(emails=["jane@example.org"]), max_rounds=5, max_identifiers=3)
    assert resolved.truncated
    assert len(resolved.subject.values()) <= 3


def test_unknown_value_falls_back_to_contact_lookup():
    org = FakeOrg()
    resolve_identity(org, Subject(emails=["nobody@example.org"]), max_rounds=5, max_identifiers=40)
    assert org.calls == [("search", "EMAIL"), ("lookup", "Email")]


def recording_guard(failures):
    """What the discovery task's isolation does, in small: a 403 fails that subject alone."""

    @contextmanager
    def guard(key):
        try:
            yield
        except PermissionDenied:
            failures.append(key)

    return guard


class TwoPeople(FakeOrg):
    """Jane as above, and Omar with one contact of his own."""

    def __init__(self):
        super().__init__()
        self.contacts["O"] = ExternalContact.model_validate({
            "id": "O", "firstName": "Omar", "lastName": "Haddad", "workEmail": "omar@example.com"})

    def search_gdpr_subjects(self, kind, value):
        if value == "omar@example.com":
            self.calls.append(("search", kind))
            return [GdprSubject(name="Omar Haddad", emailAddresses=["omar@example.com"], externalContactId="O")]
        return super().search_gdpr_subjects(kind, value)


def test_a_batch_reads_each_rounds_contacts_in_one_bulk_call():
    org = TwoPeople()
    resolved = resolve_identities(org, {"jane": Subject(emails=["jane@example.org"]),
                                        "omar": Subject(emails=["omar@example.com"])},
                                  max_rounds=5, max_identifiers=40)
    assert set(resolved["jane"].subject.external_contact_ids) == {"A", "B"}
    assert resolved["omar"].subject.external_contact_ids == ["O"]
    assert set(resolved["omar"].subject.emails) == {"omar@example.com"}
    bulk = [c for c in org.calls if c[0] == "contacts"]
    assert [set(ids) for _, ids in bulk] == [{"A", "O"}, {"B"}]  # round one: both people; round two: the merged half


def test_a_failed_subject_is_left_out_and_the_rest_resolved():
    org = TwoPeople()
    original = org.search_gdpr_subjects

    def search(kind, value):
        if value == "omar@example.com":
            raise PermissionDenied("GET /api/v2/gdpr/subjects -> 403", status=403)
        return original(kind, value)

    org.search_gdpr_subjects = search
    failures = []

    resolved = resolve_identities(org, {"jane": Subject(emails=["jane@example.org"]),
                                        "omar": Subject(emails=["omar@example.com"])},
                                  max_rounds=5, max_identifiers=40, guard=recording_guard(failures))
    assert failures == ["omar"]
    assert set(resolved) == {"jane"}
    assert set(resolved["jane"].subject.external_contact_ids) == {"A", "B"}


def test_a_contact_that_cannot_be_read_fails_its_subject_alone_and_finished_ones_are_kept():
    org = TwoPeople()
    org.unreadable = frozenset({"O"})
    failures, kept = [], []

    resolved = resolve_identities(org, {"jane": Subject(emails=["jane@example.org"]),
                                        "omar": Subject(emails=["omar@example.com"])},
                                  max_rounds=5, max_identifiers=40, guard=recording_guard(failures),
                                  on_resolved=lambda key, result: kept.append((key, set(result.subject.external_contact_ids))))
    assert failures == ["omar"] and set(resolved) == {"jane"}
    assert kept == [("jane", {"A", "B"})]  # handed over once, when done
