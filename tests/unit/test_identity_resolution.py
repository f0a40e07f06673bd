"""Identity resolution follows subject search and merged contacts to the whole identity."""

from datetime import timedelta

import pytest

from services.discovery import tasks as discovery
from services.discovery.identity import resolve_identities, resolve_identity
from shared import celery_app, pipeline
from shared.genesys import ContactReads, PermissionDenied, ServerError
from shared.genesys.models import ConversationQueryResponse, ExternalContact, GdprSubject
from shared.models import DateWindow, ErasureRecord, RequestState, Subject, utcnow
from shared.task_names import REDACT_TASK


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
                "homePhone": {"e164": "+14155552671"}, "canonicalContact": {"id": "A"},
                "identifiers": [{"type": "Cookie", "value": "cookie-b"}]}),
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

    def query_conversation_details(self, query):
        return ConversationQueryResponse.model_validate({"conversations": []})


def test_merged_contacts_give_the_whole_identity():
    org = FakeOrg()
    resolved = resolve_identity(org, Subject(emails=["jane@example.org"]), max_rounds=5, max_identifiers=40)
    subject = resolved.subject
    assert set(subject.emails) == {"jane@example.org", "jd@example.net"}
    assert set(subject.phones) == {"+447911123456", "+14155552671"}
    assert set(subject.external_contact_ids) == {"A", "B"}
    assert subject.cookie_ids == ["cookie-b"]  # a web-messaging guest's journey cookie (issue 15, item 5)
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


# A subject whose own step fails permanently fails its request alone. These run the discovery task
# itself, so the guard is the one the product passes to ``resolve_identities`` (``isolated``).

@pytest.fixture
def discover(runtime, monkeypatch):
    """Run the discovery task eagerly for requests keyed ``jane`` and ``omar`` against ``org``."""
    sent = []
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args)))
    identities = []
    store_update = runtime.store.update

    def update(request_id, **changes):  # what resolution hands over (not the state change after it)
        if "identity" in changes and "state" not in changes:
            identities.append((request_id, set(changes["identity"].external_contact_ids)))
        return store_update(request_id, **changes)

    monkeypatch.setattr(runtime.store, "update", update)

    def run(org):
        monkeypatch.setattr(runtime, "genesys", lambda pool: org)
        now = utcnow()
        for key, email in (("jane", "jane@example.org"), ("omar", "omar@example.com")):
            runtime.store.create(ErasureRecord(request_id=key, ticket=f"T-{key}", subject=Subject(emails=[email]),
                                               verified_at=now, window=DateWindow(start=now - timedelta(days=7),
                                                                                  end=now + timedelta(days=1))))
        discovery.discover.apply(args=[["jane", "omar"]])
        return sent, identities

    return run


def states(runtime):
    return {key: runtime.store.get(key).state for key in ("jane", "omar")}


def test_a_failed_subject_is_left_out_and_the_rest_resolved(runtime, discover):
    org = TwoPeople()
    original = org.search_gdpr_subjects

    def search(kind, value):
        if value == "omar@example.com":
            raise PermissionDenied("GET /api/v2/gdpr/subjects -> 403", status=403)
        return original(kind, value)

    org.search_gdpr_subjects = search

    sent, identities = discover(org)

    assert states(runtime) == {"jane": RequestState.REDACTING, "omar": RequestState.FAILED}
    omar = runtime.store.get("omar")
    assert omar.reason.startswith("discovery failed with PermissionDenied")
    assert [e["details"] for e in runtime.audit.entries_for("omar") if e["event"] == "request.failed"] == [
        {"state": "failed", "step": "discovery", "error": "PermissionDenied"}]
    assert set(runtime.store.get("jane").identity.external_contact_ids) == {"A", "B"}
    assert identities == [("jane", {"A", "B"})]
    assert sent == [(REDACT_TASK, [["jane"]])]


def test_a_contact_that_cannot_be_read_fails_its_subject_alone_and_finished_ones_are_kept(runtime, discover):
    org = TwoPeople()
    org.unreadable = frozenset({"O"})

    sent, identities = discover(org)

    assert states(runtime) == {"jane": RequestState.REDACTING, "omar": RequestState.FAILED}
    assert runtime.store.get("omar").reason.startswith("discovery failed with PermissionDenied")
    assert identities == [("jane", {"A", "B"})]  # handed over once, when done
    assert sent == [(REDACT_TASK, [["jane"]])]


def test_a_transient_error_of_one_subject_retries_that_subject_alone_instead_of_failing_it(runtime, discover):
    """The product's guard keeps a platform hiccup with its subject: that request alone is retried, nobody fails."""
    org = TwoPeople()
    original = org.search_gdpr_subjects
    hiccups = []

    def search(kind, value):
        if value == "omar@example.com" and not hiccups:
            hiccups.append(value)
            raise ServerError("GET /api/v2/gdpr/subjects -> 503", status=503)
        return original(kind, value)

    org.search_gdpr_subjects = search

    sent, identities = discover(org)

    assert hiccups and states(runtime) == {"jane": RequestState.REDACTING, "omar": RequestState.REDACTING}
    assert runtime.store.get("omar").identity.external_contact_ids == ["O"]
    assert sorted(identities) == [("jane", {"A", "B"}), ("omar", {"O"})]  # each handed over once
    # jane went on in the first delivery; omar followed in its own retry (run inline by ``apply``)
    assert [(name, sorted(args[0])) for name, args in sent] == [(REDACT_TASK, ["jane"]), (REDACT_TASK, ["omar"])]
