"""A batch's predicates go to the platform in as few async jobs as its per-filter limit allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.discovery.details_jobs import PREDICATES_PER_JOB, chunk_predicates, run_details_job
from shared.errors import RunLater
from shared.genesys.models import AnalyticsConversation, DetailsJobResults, DetailsJobStatus

START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)


def _preds(n: int) -> list[dict[str, str]]:
    return [{"type": "dimension", "dimension": "addressFrom", "operator": "matches", "value": f"p{i}@example.org"}
            for i in range(n)]


def _conv(cid: str) -> AnalyticsConversation:
    return AnalyticsConversation.model_validate({"conversationId": cid, "participants": []})


class FakeJobs:
    """Jobs that answer the conversations named by their predicates' values, two results pages each."""

    def __init__(self, running_polls: int = 0) -> None:
        self.submitted: list[dict] = []
        self.deleted: list[str] = []
        self.running_polls = running_polls  # status reads answered RUNNING before FULFILLED

    def submit_details_job(self, query):
        self.submitted.append(query)
        return f"job-{len(self.submitted)}"

    def get_details_job(self, job_id):
        if self.running_polls > 0:
            self.running_polls -= 1
            return DetailsJobStatus(state="RUNNING")
        return DetailsJobStatus(state="FULFILLED")

    def get_details_job_results(self, job_id, cursor=None, page_size=1000):
        preds = self.submitted[int(job_id.split("-")[1]) - 1]["segmentFilters"][0]["predicates"]
        ids = ["shared-conv"] + [f"conv-{p['value']}" for p in preds]  # every job also finds one shared conv
        half = len(ids) // 2
        if cursor is None:
            return DetailsJobResults(conversations=[_conv(c) for c in ids[:half]], cursor="next")
        return DetailsJobResults(conversations=[_conv(c) for c in ids[half:]], cursor=None)

    def delete_details_job(self, job_id):
        self.deleted.append(job_id)


@pytest.mark.parametrize(("n", "sizes"), [(0, []), (1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
def test_chunks_are_the_fewest_within_the_limit(n, sizes):
    chunks = chunk_predicates(_preds(n), limit=100)
    assert [len(c) for c in chunks] == sizes
    assert [p for c in chunks for p in c] == _preds(n)  # all of them, in order


def test_repeated_predicates_are_sent_once():
    chunks = chunk_predicates(_preds(60) + _preds(60), limit=50)
    assert [len(c) for c in chunks] == [50, 10]


def test_a_large_batch_runs_one_job_per_chunk_and_merges_their_results(runtime):
    fake = FakeJobs()
    found = run_details_job(runtime, fake, _preds(2 * PREDICATES_PER_JOB + 5), START, END)
    assert [len(q["segmentFilters"][0]["predicates"]) for q in fake.submitted] == [PREDICATES_PER_JOB,
                                                                                   PREDICATES_PER_JOB, 5]
    ids = [c.conversation_id for c in found]
    assert len(ids) == len(set(ids)) == 2 * PREDICATES_PER_JOB + 5 + 1  # the shared one once
    assert sorted(fake.deleted) == ["job-1", "job-2", "job-3"]
    assert not runtime.redis.keys(runtime.keys.details_job("*"))  # nothing left to follow


def test_a_retry_follows_every_job_of_the_batch_instead_of_submitting_again(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "details_job_wait_s", 0.0)
    fake = FakeJobs(running_polls=1)
    with pytest.raises(RunLater):
        run_details_job(runtime, fake, _preds(PREDICATES_PER_JOB + 1), START, END)
    assert len(fake.submitted) == 2  # both submitted before the wait gave the worker back
    assert len(runtime.redis.keys(runtime.keys.details_job("*"))) == 2  # both kept for the retry

    found = run_details_job(runtime, fake, _preds(PREDICATES_PER_JOB + 1), START, END)
    assert len(fake.submitted) == 2  # the same two jobs, followed
    assert len(found) == PREDICATES_PER_JOB + 1 + 1
    assert sorted(fake.deleted) == ["job-1", "job-2"]

