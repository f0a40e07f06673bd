"""One request's audit entries read through its index (``AuditLog.entries_of``): the same entries as a scan
of the whole log, in two round trips; and no answer (the caller scans) where the index cannot vouch."""

from __future__ import annotations

from datetime import timedelta

from shared.models import ErasureRecord, Subject, utcnow


def indexed_from(runtime):
    """Mark indexing as begun now, as the store does when it stores its first request."""
    start = utcnow()
    runtime.redis.set(runtime.keys.audit_indexed_since, start.isoformat())
    return start


def test_a_requests_entries_come_from_its_index_as_the_scan_finds_them(runtime):
    start = indexed_from(runtime)
    for n in range(3):
        runtime.audit.append("test.one", request_id="r-1", details={"n": n})
        runtime.audit.append("test.other", request_id="r-2")
        runtime.audit.append("test.none")
    found = runtime.audit.entries_of("r-1", start)
    assert found == runtime.audit.entries_for("r-1") and [e["details"]["n"] for e in found] == [0, 1, 2]
    assert runtime.audit.entries_of("r-3", start) == []


def test_a_request_received_before_the_index_existed_is_not_answered(runtime):
    runtime.audit.append("test.one", request_id="r-1")
    assert runtime.audit.entries_of("r-1", utcnow()) is None  # no request stored by an indexing version yet
    start = indexed_from(runtime)
    assert runtime.audit.entries_of("r-1", start - timedelta(seconds=1)) is None


def test_the_store_marks_when_indexing_began_once(runtime):
    first = runtime.store.create(ErasureRecord(ticket="A-1", subject=Subject(emails=["a@example.org"]),
                                               verified_at=utcnow()))
    runtime.store.create(ErasureRecord(ticket="A-2", subject=Subject(emails=["b@example.org"]), verified_at=utcnow()))
    assert runtime.redis.get(runtime.keys.audit_indexed_since) == first.received_at.isoformat()
    assert runtime.audit.entries_of(first.request_id, first.received_at) == []


def test_an_index_that_points_at_another_entry_is_not_trusted(runtime):
    start = indexed_from(runtime)
    runtime.audit.append("test.one", request_id="r-1")
    runtime.audit.append("test.other", request_id="r-2")
    assert len(runtime.audit.entries_of("r-1", start)) == 1
    runtime.redis.rpush(runtime.keys.audit_of_request("r-1"), 3)  # r-2's entry
    assert runtime.audit.entries_of("r-1", start) is None
