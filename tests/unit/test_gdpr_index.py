"""The incremental index of the platform's GDPR requests (``services.deletion.gdpr_index``): how far a sync
reads (the marker, the horizon, the page cap), what it keeps, and that a lost write only costs a re-read."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from services.deletion.gdpr_index import (
    BEGINNING,
    GDPR_RECONCILE_PAGES,
    PAGE_SIZE,
    SUBJECT_KEEP,
    GdprIndex,
    gdpr_request_name,
    subject_fingerprint,
)
from shared.effects import ReconcileIncomplete
from shared.genesys.models import GdprRequest, GdprRequestListing, GdprSubject
from tests.support.lost_writes import restore, snapshot

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Platform:
    """``GET /api/v2/gdpr/requests``: the organisation's requests newest first, one a second from T0 on."""

    def __init__(self) -> None:
        self.requests: list[GdprRequest] = []  # newest first
        self.pages_read: list[int] = []
        self._ids = itertools.count(1)
        self.clock = T0

    def add(self, name: str | None = "someone-else", count: int = 1, subject: GdprSubject | None = None,
            request_type: str = "GDPR_DELETE", creator: str | None = None) -> GdprRequest:
        for _ in range(count):
            self.clock += timedelta(seconds=1)
            entry = GdprRequest(id=f"g-{next(self._ids)}", name=name, requestType=request_type, status="COMPLETED",
                                createdDate=stamp(self.clock), subject=subject,
                                createdBy={"id": creator} if creator else None)
            self.requests.insert(0, entry)
        return entry

    def list_gdpr_requests(self, page_number: int = 1, page_size: int = 100) -> GdprRequestListing:
        self.pages_read.append(page_number)
        start = (page_number - 1) * page_size
        return GdprRequestListing(entities=self.requests[start:start + page_size], pageNumber=page_number,
                                  pageCount=max(1, -(-len(self.requests) // page_size)))


@pytest.fixture
def index(runtime):
    return GdprIndex(runtime.redis, runtime.keys.prefix)


def reads(platform: Platform) -> list[int]:
    out, platform.pages_read = platform.pages_read, []
    return out


def test_the_first_sync_reads_down_to_the_horizon_and_later_ones_to_the_marker(index):
    platform = Platform()
    platform.add(count=5 * PAGE_SIZE)  # an organisation with history
    horizon = platform.clock - timedelta(seconds=150)  # the batch's oldest request arrived then
    ours = platform.add(gdpr_request_name("r1"))

    index.sync(platform, horizon)

    assert reads(platform) == [1, 2]  # page 2 reaches back past the horizon; pages 3..5 are not read
    assert index.lookup("erasure-r1") == ours.id
    coverage = index.coverage()
    assert coverage.marker == platform.clock and coverage.floor < horizon

    platform.add(count=30)
    later = platform.add(gdpr_request_name("r2"))
    index.sync(platform, platform.clock)

    assert reads(platform) == [1]  # the marker is on page 1: nothing older is read again
    assert index.lookup("erasure-r2") == later.id and index.lookup("erasure-r1") == ours.id
    assert index.lookup("erasure-nobody") is None
    assert index.coverage().floor == coverage.floor  # still covered down to where the first sync reached


def test_only_our_requests_are_kept(index, runtime):
    platform = Platform()
    platform.add("someone-else", count=3)
    ours = platform.add(gdpr_request_name("r1"))

    index.sync(platform, T0)

    assert runtime.redis.hgetall(index.names_key) == {"erasure-r1": ours.id}
    assert index.coverage().floor == BEGINNING  # the whole list was read


def test_a_marker_at_the_end_of_a_page_reads_one_page_more(index):
    platform = Platform()
    platform.add(count=10)
    index.sync(platform, T0)
    platform.add(count=PAGE_SIZE)  # the marker is now the first entry of page 2
    reads(platform)

    index.sync(platform, platform.clock)

    assert reads(platform) == [1, 2]


def test_a_lost_write_deleting_the_index_is_healed_by_the_next_sync(index, runtime):
    platform = Platform()
    platform.add(count=250)
    earlier = platform.add(gdpr_request_name("r1"))  # submitted; its ledger record and the index then lost
    horizon = platform.clock - timedelta(minutes=1)
    index.sync(platform, horizon)
    platform.add(count=20)

    runtime.redis.delete(index.names_key, index.meta_key)
    reads(platform)
    index.sync(platform, horizon)

    assert index.lookup("erasure-r1") == earlier.id
    assert reads(platform) == [1]  # no marker: down to the horizon, which is on page 1


def test_an_index_reverted_to_before_a_request_finds_it_from_its_older_marker(index, runtime):
    platform = Platform()
    platform.add(count=50)
    index.sync(platform, T0)
    before = snapshot(runtime.redis)  # Redis will come back with this: names and marker as they were
    platform.add(count=40)
    ours = platform.add(gdpr_request_name("r1"))
    platform.add(count=40)
    index.sync(platform, T0)
    platform.add(count=40)  # more since: the marker that was lost is on page 2 now

    restore(runtime.redis, before)
    assert index.lookup("erasure-r1") is None
    reads(platform)
    index.sync(platform, T0)

    assert index.lookup("erasure-r1") == ours.id
    assert reads(platform) == [1, 2]  # down to the surviving marker, not the whole list


def test_a_request_older_than_the_index_makes_the_sync_read_down_to_it(index):
    platform = Platform()
    platform.add(count=150)
    old = platform.add(gdpr_request_name("r-old"))
    platform.add(count=150)
    index.sync(platform, platform.clock - timedelta(seconds=10))  # the index begins near the top
    assert index.lookup("erasure-r-old") is None
    reads(platform)

    index.sync(platform, T0 + timedelta(seconds=100))  # a batch with an older request: its horizon is below the floor

    assert index.lookup("erasure-r-old") == old.id
    assert reads(platform) == [1, 2, 3]
    assert index.coverage().floor < T0 + timedelta(seconds=100)


def test_the_page_cap_without_reaching_the_horizon_concludes_nothing(index, runtime):
    platform = Platform()
    horizon = platform.clock
    platform.add(count=GDPR_RECONCILE_PAGES * PAGE_SIZE + 1)  # all newer than the horizon
    found = platform.add(gdpr_request_name("r1"))

    with pytest.raises(ReconcileIncomplete, match="without reaching its end"):
        index.sync(platform, horizon)

    assert len(reads(platform)) == GDPR_RECONCILE_PAGES
    assert index.coverage() is None  # no claim made: the next sync reads again
    assert index.lookup("erasure-r1") == found.id  # what was read is kept: facts, whatever the coverage


def test_the_page_cap_past_the_horizon_is_conclusive_and_restarts_the_index(index):
    platform = Platform()
    platform.add(count=10)
    index.sync(platform, T0)
    platform.add(count=GDPR_RECONCILE_PAGES * PAGE_SIZE)  # a burst since: the marker is beyond the cap
    horizon = platform.clock - timedelta(seconds=PAGE_SIZE)
    ours = platform.add(gdpr_request_name("r1"))
    reads(platform)

    index.sync(platform, horizon)

    assert len(reads(platform)) == GDPR_RECONCILE_PAGES
    assert index.lookup("erasure-r1") == ours.id
    coverage = index.coverage()
    assert coverage.marker == platform.clock and horizon > coverage.floor > T0 + timedelta(seconds=10)


def test_a_list_that_is_not_newest_first_or_undated_concludes_nothing(index):
    platform = Platform()
    platform.add(count=3)
    platform.requests.reverse()
    with pytest.raises(ReconcileIncomplete, match="not newest first"):
        index.sync(platform, T0)

    platform.requests.reverse()
    platform.requests[1] = platform.requests[1].model_copy(update={"created_date": None})
    with pytest.raises(ReconcileIncomplete, match="without its creation date"):
        index.sync(platform, T0)
    assert index.coverage() is None


KEY = b"k" * 32
JANE = GdprSubject(emailAddresses=["jane@example.org"], phoneNumbers=["+4915112345678"])


def test_a_request_listed_without_its_name_is_found_by_its_exact_subject_after_the_horizon(runtime):
    index = GdprIndex(runtime.redis, runtime.keys.prefix, lambda subject: subject_fingerprint(KEY, subject))
    platform = Platform()
    earlier = platform.add(None, subject=JANE)  # the same person's GDPR_DELETE from before our request arrived
    horizon = platform.clock
    platform.add(None, subject=GdprSubject(emailAddresses=["jane@example.org"]))  # a subset: not what we send
    platform.add(None, subject=JANE, request_type="GDPR_EXPORT")  # not a deletion
    ours = platform.add(None, subject=GdprSubject(phoneNumbers=["+4915112345678"], emailAddresses=["Jane@Example.org"]))
    platform.add(None, subject=JANE)  # a later one: the oldest after the horizon is ours

    index.sync(platform, T0)

    assert index.lookup_subject(JANE, horizon) == ours.id
    assert index.lookup_subject(JANE, T0) == earlier.id
    assert index.lookup_subject(GdprSubject(emailAddresses=["nobody@example.org"]), T0) is None
    stored = "".join(f"{k}{v}" for key in runtime.redis.keys("*gdprindex*") if runtime.redis.type(key) == "hash"
                     for k, v in runtime.redis.hgetall(key).items())
    assert "jane" not in stored.lower() and "4915112345678" not in stored  # digests only


def test_a_nameless_request_by_another_creator_is_not_adopted_once_we_know_who_we_are(runtime):
    index = GdprIndex(runtime.redis, runtime.keys.prefix, lambda subject: subject_fingerprint(KEY, subject))
    platform = Platform()
    horizon = platform.clock
    operators = platform.add(None, subject=JANE, creator="operator-in-the-admin-ui")
    ours = platform.add(None, subject=JANE, creator="our-oauth-client")
    index.sync(platform, T0)

    assert index.lookup_subject(JANE, horizon) == operators.id  # nothing known of us yet: the subject decides
    index.remember_creator("our-oauth-client")
    assert index.lookup_subject(JANE, horizon) == ours.id
    index.remember_creator(None)  # an answer without createdBy teaches nothing
    assert runtime.redis.smembers(index.creators_key) == {"our-oauth-client"}


def test_nameless_entries_expire_and_old_entries_without_a_creator_still_read(runtime):
    index = GdprIndex(runtime.redis, runtime.keys.prefix, lambda subject: subject_fingerprint(KEY, subject))
    platform = Platform()
    entry = platform.add(None, subject=JANE)
    index.sync(platform, T0)
    key = index._subject_root + subject_fingerprint(KEY, JANE)
    assert 0 < runtime.redis.ttl(key) <= SUBJECT_KEEP.total_seconds()
    runtime.redis.hset(key, entry.id, T0.isoformat())  # written by the release before creators were kept
    index.remember_creator("our-oauth-client")
    assert index.lookup_subject(JANE, T0 - timedelta(seconds=1)) == entry.id


def test_without_a_fingerprint_nameless_requests_are_not_indexed(index):
    platform = Platform()
    platform.add(None, subject=JANE)
    index.sync(platform, T0)
    assert index.lookup_subject(JANE, T0) is None


def test_the_subject_fingerprint_matches_the_platform_echoing_identifiers_in_another_form():
    """The platform may echo a phone formatted, or an email in another case: the nameless GDPR_DELETE must
    still be recognised as ours, or a lost record would send a second one."""
    sent = GdprSubject(emailAddresses=["jane@example.org"], phoneNumbers=["+447911123456"])
    echoed = GdprSubject(emailAddresses=["Jane@Example.org"], phoneNumbers=["tel:+44 7911 123456"])
    other = GdprSubject(emailAddresses=["jane@example.org"], phoneNumbers=["+447911123457"])
    assert subject_fingerprint(KEY, echoed) == subject_fingerprint(KEY, sent)
    assert subject_fingerprint(KEY, other) != subject_fingerprint(KEY, sent)


def test_the_subject_fingerprint_tells_apart_the_requests_of_a_subjects_contacts_and_cookies():
    """A subject's further GDPR_DELETEs name one contact and one journey cookie each (issue 15, item 5):
    a nameless one is found by exactly those, never taken for its sibling's."""
    def journey(contact: str, cookie: str) -> GdprSubject:
        return GdprSubject(externalContactId=contact, journeyCustomer={"type": "cookie", "id": cookie})

    sent = journey("c-b", "k-b")
    assert subject_fingerprint(KEY, GdprSubject.model_validate(sent.to_body())) == subject_fingerprint(KEY, sent)
    assert subject_fingerprint(KEY, journey("c-b", "k-c")) != subject_fingerprint(KEY, sent)
    assert subject_fingerprint(KEY, GdprSubject(externalContactId="c-b")) != subject_fingerprint(KEY, sent)


def test_a_gdpr_update_is_found_by_its_name_and_never_adopts_a_nameless_gdpr_delete(runtime):
    """Anonymise (issue 17): a lost write before the GDPR_UPDATE's id was recorded is healed by its name; a
    nameless GDPR_DELETE for the same subject is not ours to adopt as the update (it would certify an
    erasure as the anonymisation)."""
    from services.deletion.gdpr_index import GdprRequests, gdpr_request_name
    from shared.models import ErasureRecord, RequestKind, Subject

    record = ErasureRecord(ticket="A-1", subject=Subject(emails=["jane@example.org"]), verified_at=T0,
                           received_at=T0, kind=RequestKind.ANONYMISE)
    platform = Platform()
    platform.add(None, subject=JANE)  # a nameless GDPR_DELETE for exactly what the update names
    requests = GdprRequests(runtime, platform)  # type: ignore[arg-type]
    name = gdpr_request_name(record.request_id)
    assert requests.find(record, JANE, name, request_type="GDPR_UPDATE") is None
    assert requests.find(record, JANE, name) is not None  # a delete's search would adopt it
    update = platform.add(name, subject=JANE, request_type="GDPR_UPDATE")
    fresh = GdprRequests(runtime, platform)  # type: ignore[arg-type]
    assert fresh.find(record, JANE, name, request_type="GDPR_UPDATE") == update.id
