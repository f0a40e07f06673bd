"""The ticket is the idempotency key: the same ticket twice is one request."""

import fakeredis
import pytest

from shared.keys import Keys
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from shared.store import DuplicateTicket, RequestStore


def new_record(ticket):
    return ErasureRecord(ticket=ticket, subject=Subject(emails=["a@example.org"]), verified_at=utcnow())


def test_duplicate_ticket_refused_and_first_kept():
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    first = store.create(new_record("T-1"))
    with pytest.raises(DuplicateTicket) as info:
        store.create(new_record("T-1"))
    assert info.value.request_id == first.request_id
    assert store.ids() == [first.request_id]


def test_state_roundtrip():
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    record = store.create(new_record("T-2"))
    store.set_state(record.request_id, RequestState.DELETING)
    assert store.get(record.request_id).state is RequestState.DELETING
    assert store.states([record.request_id]) == {record.request_id: RequestState.DELETING}
    assert store.find_by_ticket("T-2").request_id == record.request_id
