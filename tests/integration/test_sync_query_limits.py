"""Against an organisation whose synchronous details query refuses long intervals (the simulator set to
`limits`-style strictness, here tighter than 31 days and agreed with the client), every read the product
makes is one the platform accepts: verification reads conversations back by id, and the check for
reassigned numbers asks in windows, however long ago the request's window ended."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, submit, wait_certificate, wait_final

LIMIT_DAYS = 7  # every recycled subject's window ends 21 days ago or more: longer than this


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory, redis_available):
    config = SimConfig(subjects=6, seed=31, gdpr_step_s=0.2, rate_limit=6000, recycled=1,
                       sync_query_max_days=LIMIT_DAYS)
    with running_stack(tmp_path_factory.mktemp("strict"), redis_available, config, concurrency=4,
                       ERASURE_SYNC_QUERY_MAX_DAYS=str(LIMIT_DAYS)) as stack:
        stack.subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        yield stack


def test_verification_reads_conversations_back_without_an_interval_the_platform_refuses(strict_stack):
    plain = [s for s in strict_stack.subjects if not s.get("window")][:2]
    ids = submit(strict_stack, [{"ticket": f"STRICT-{n}", "emails": s["emails"], "phones": s["phones"],
                                 "approved_by": "it"} for n, s in enumerate(plain)])
    states = wait_final(strict_stack, ids, timeout_s=60)
    assert set(states.values()) == {RequestState.COMPLETED}, states
    for request_id in ids:
        certificate = wait_certificate(strict_stack, request_id)
        assert certificate["verification"]["ok"] is True
        assert certificate["verification"]["checked_conversations"] >= 1


def test_reassigned_number_check_asks_only_windows_the_platform_accepts(strict_stack):
    subject = next(s for s in strict_stack.subjects if s.get("window"))
    [request_id] = submit(strict_stack, [{
        "ticket": "STRICT-RECYCLED", "emails": subject["emails"], "phones": subject["phones"],
        "window_start": subject["window"]["start"], "window_end": subject["window"]["end"],
        "approved_by": "it"}])
    states = wait_final(strict_stack, [request_id], timeout_s=60)
    record = strict_stack.runtime.store.get(request_id)
    assert record.excluded is not None and record.excluded.phones, "the later owner's number was not found"
    assert states[request_id] is RequestState.COMPLETED_WITH_WITHHELD
