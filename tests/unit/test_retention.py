"""Keep nothing longer than needed: a final request's masked transcripts go, its record is compacted, and
the workers ask Redis to rewrite its AOF after scrubs (rate-limited across workers, off with 0)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.models import ErasureRecord, RequestState, Subject
from shared.retention import retire, rewrite_aof_if_due
from shared.runtime import Runtime

EMAIL = "jane.doe@example.org"


def _final(runtime: Runtime) -> ErasureRecord:
    record = runtime.store.create(ErasureRecord(
        ticket="RET-1", subject=Subject(emails=[EMAIL]), verified_at=datetime.now(UTC),
        identity=Subject(emails=[EMAIL], phones=["+33612345678"]), identity_sources={"contacts": 1},
        conversation_ids=["c1", "c2"], message_conversation_ids=["c2"], message_ids={"c2": ["m1"]},
        last_revisit_at=datetime.now(UTC)))
    runtime.redis.set(runtime.keys.transcript(record.request_id), '["hello ****"]', ex=3600)
    runtime.redis.set(runtime.keys.transcript("another-open-request"), '["keep ****"]', ex=3600)
    done = runtime.store.set_state(record.request_id, RequestState.DISCOVERING)
    for state in (RequestState.REDACTING, RequestState.DELETING, RequestState.POLLING, RequestState.VERIFYING,
                  RequestState.COMPLETED):
        done = runtime.store.set_state(record.request_id, state)
    assert done is not None
    return done


def test_a_retired_request_loses_its_transcripts_and_what_only_work_in_flight_read(runtime):
    record = _final(runtime)
    retire(runtime, record)
    stored = runtime.store.get(record.request_id)
    assert stored.scrubbed and stored.state is RequestState.COMPLETED
    assert not runtime.redis.exists(runtime.keys.transcript(record.request_id))
    assert runtime.redis.exists(runtime.keys.transcript("another-open-request"))  # an open request keeps its own
    assert (stored.message_conversation_ids, stored.identity_sources, stored.last_revisit_at) == ([], {}, None)
    # What status, the certificate and a later release read stays.
    assert (stored.conversation_ids, stored.message_ids, stored.ticket) == (["c1", "c2"], {"c2": ["m1"]}, "RET-1")
    raw = runtime.redis.get(runtime.keys.request(record.request_id))
    assert EMAIL not in raw and "+33612345678" not in raw
    assert retire(runtime, stored) == runtime.store.get(record.request_id)  # idempotent


class _Recorder:
    """The client's BGREWRITEAOF, counted (fakeredis has no AOF)."""

    def __init__(self, runtime: Runtime) -> None:
        self.calls = 0
        runtime.redis.bgrewriteaof = self  # type: ignore[method-assign]

    def __call__(self) -> bool:
        self.calls += 1
        return True


def test_the_aof_is_rewritten_after_scrubs_at_most_once_per_interval(runtime):
    rewrites = _Recorder(runtime)
    assert not rewrite_aof_if_due(runtime.redis, runtime.keys, 900)  # nothing scrubbed: nothing to rewrite
    retire(runtime, _final(runtime))
    assert rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert not rewrite_aof_if_due(runtime.redis, runtime.keys, 900)  # nothing scrubbed since
    runtime.redis.set(runtime.keys.scrubbed_since_rewrite, "1")  # another scrub, within the interval
    assert not rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert rewrites.calls == 1
    runtime.redis.delete(runtime.keys.aof_rewrite_lease)  # the interval is over
    assert rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert rewrites.calls == 2


def test_the_operator_can_turn_the_rewrite_off(runtime):
    rewrites = _Recorder(runtime)
    retire(runtime, _final(runtime))
    assert not rewrite_aof_if_due(runtime.redis, runtime.keys, 0)
    assert rewrites.calls == 0


def test_retention_settings_refuse_what_cannot_work():
    import pytest

    from shared.config import Settings

    with pytest.raises(ValueError, match="ERASURE_TRANSCRIPT_TTL_S"):
        Settings(transcript_ttl_s=0)
    with pytest.raises(ValueError, match="ERASURE_AOF_REWRITE_INTERVAL_S"):
        Settings(aof_rewrite_interval_s=-1)


class _Refusing:
    """A BGREWRITEAOF that fails with ``error`` (an ACL refusal, a dropped connection)."""

    def __init__(self, runtime: Runtime, error: Exception) -> None:
        self.error = error
        runtime.redis.bgrewriteaof = self  # type: ignore[method-assign]

    def __call__(self) -> bool:
        raise self.error


def test_a_refused_or_dropped_rewrite_is_not_forgotten(runtime):
    """The flag saying the AOF holds scrubbed values goes only once Redis took the command: a refusal or a
    dropped connection leaves it, so the next interval asks again."""
    import pytest
    import redis

    retire(runtime, _final(runtime))
    _Refusing(runtime, redis.exceptions.ResponseError("NOPERM this user has no permissions"))
    assert not rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert runtime.redis.exists(runtime.keys.scrubbed_since_rewrite)
    runtime.redis.delete(runtime.keys.aof_rewrite_lease)
    _Refusing(runtime, redis.exceptions.ConnectionError("Connection closed by server."))
    with pytest.raises(redis.exceptions.ConnectionError):
        rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert runtime.redis.exists(runtime.keys.scrubbed_since_rewrite)
    runtime.redis.delete(runtime.keys.aof_rewrite_lease)
    rewrites = _Recorder(runtime)
    assert rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert rewrites.calls == 1 and not runtime.redis.exists(runtime.keys.scrubbed_since_rewrite)


def test_a_scrub_during_the_rewrite_asks_for_another(runtime):
    """A value scrubbed while Redis rewrites may be in the rewritten file (it forked before): the scrub's
    mark stays for the next interval."""
    record = retire(runtime, _final(runtime))

    def scrub_meanwhile() -> bool:
        retire(runtime, record)  # a scrub (the same request's again: it marks the same way)
        return True

    runtime.redis.bgrewriteaof = scrub_meanwhile  # type: ignore[method-assign]
    assert rewrite_aof_if_due(runtime.redis, runtime.keys, 900)
    assert runtime.redis.exists(runtime.keys.scrubbed_since_rewrite)
