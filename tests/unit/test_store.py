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


def test_a_write_to_another_field_does_not_cost_a_state_change():
    """update_if rereads after a concurrent write instead of reporting 'someone else moved it'."""
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server, decode_responses=True)
    other = RequestStore(fakeredis.FakeRedis(server=server, decode_responses=True), Keys("t"))
    store = RequestStore(client, Keys("t"))
    record = store.create(new_record("T-3"))
    store.set_state(record.request_id, RequestState.REDACTING)
    original_pipeline = client.pipeline

    def pipeline(*args, **kwargs):
        pipe = original_pipeline(*args, **kwargs)
        real_multi = pipe.multi

        def multi():  # between WATCH and MULTI, once: an unrelated writer updates the record
            if not getattr(pipe, "interfered", False):
                pipe.interfered = True
                other.update(record.request_id, transcripts_scanned=7)
            return real_multi()

        pipe.multi = multi
        return pipe

    client.pipeline = pipeline
    moved = store.update_if(record.request_id, RequestState.REDACTING, state=RequestState.DELETING)
    assert moved is not None and moved.state is RequestState.DELETING
    stored = store.get(record.request_id)
    assert stored.state is RequestState.DELETING and stored.transcripts_scanned == 7
