"""The data lake's lag: what an async details job cannot have seen is asked with the sync query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.discovery.data_lag import LakeReach, find_with_job, gap_interval, merge
from services.discovery.details_jobs import parse_availability
from shared.genesys.models import AnalyticsConversation, ConversationQueryResponse, DetailsJobResults, DetailsJobStatus

START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PREDS = [{"type": "dimension", "dimension": "addressFrom", "operator": "matches", "value": "a@example.org"}]


def _conv(cid: str, end: str | None = None) -> AnalyticsConversation:
    body: dict = {"conversationId": cid, "participants": []}
    if end:
        body["conversationEnd"] = end
    return AnalyticsConversation.model_validate(body)


def _interval(query: dict) -> tuple[datetime, datetime]:
    start, end = query["interval"].split("/")
    return parse_availability(start), parse_availability(end)  # type: ignore[return-value]


class FakeLake:
    """A job that sees "old" only (and says how far it saw, unless told not to); a sync query that finds
    "old" and "new" whenever its interval reaches their start."""

    STARTS = {"old": START + 100 * DAY, "new": END - 2 * DAY}

    def __init__(self, job_says: datetime | None, endpoint_says: datetime | None) -> None:
        self.job_says, self.endpoint_says = job_says, endpoint_says
        self.sync_intervals: list[tuple[datetime, datetime]] = []
        self.availability_reads = 0
        self.submitted = 0

    def submit_details_job(self, query):
        self.submitted += 1
        return f"job-{self.submitted}"

    def get_details_job(self, job_id):
        return DetailsJobStatus(state="FULFILLED")

    def get_details_job_results(self, job_id, cursor=None, page_size=1000):
        stamp = self.job_says.strftime("%Y-%m-%dT%H:%M:%S.000Z") if self.job_says else None
        return DetailsJobResults.model_validate({"conversations": [{"conversationId": "old", "participants": []}],
                                                 "dataAvailabilityDate": stamp})

    def delete_details_job(self, job_id):
        pass

    def get_details_job_availability(self):
        self.availability_reads += 1
        return self.endpoint_says.strftime("%Y-%m-%dT%H:%M:%S.000Z") if self.endpoint_says else None

    def query_conversation_details(self, query):
        start, end = _interval(query)
        self.sync_intervals.append((start, end))
        hits = [cid for cid, at in self.STARTS.items() if start <= at < end]
        if query["paging"]["pageNumber"] > 1:
            hits = []
        return ConversationQueryResponse(conversations=[_conv(c, "2026-01-01T00:00:00.000Z") for c in hits])


def test_gap_starts_an_overlap_before_the_lake_reach_and_ends_with_the_interval():
    reach = END - 3 * DAY
    assert gap_interval(reach, START, END, DAY) == (END - 4 * DAY, END)


def test_no_gap_when_the_lake_reaches_past_the_interval():
    assert gap_interval(END + DAY, START, END, DAY) is None


def test_unknown_reach_makes_the_whole_interval_the_gap():
    assert gap_interval(None, START, END, DAY) == (START, END)
    assert gap_interval(START - 5 * DAY, START, END, DAY) == (START, END)  # never before the interval


def test_merge_keeps_each_conversation_once_and_prefers_the_real_time_read():
    merged = merge([_conv("a"), _conv("b")], [_conv("b", "2026-01-01T00:00:00.000Z"), _conv("c")])
    assert sorted(c.conversation_id for c in merged) == ["a", "b", "c"]
    assert next(c for c in merged if c.conversation_id == "b").conversation_end is not None


def test_parse_availability_reads_the_platform_stamp_and_refuses_nonsense():
    assert parse_availability("2026-11-30T08:00:00.000Z") == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert parse_availability(None) is None and parse_availability("soon") is None


def test_a_conversation_newer_than_the_lake_is_found_by_a_sync_query_over_the_gap_only(runtime):
    reach = END - 5 * DAY
    lake = FakeLake(job_says=reach, endpoint_says=None)
    found = find_with_job(runtime, lake, PREDS, START, END, LakeReach(lake))
    assert sorted(c.conversation_id for c in found.conversations) == ["new", "old"]
    assert found.only_in_gap == {"new"}
    overlap = timedelta(seconds=runtime.settings.data_lag_overlap_s)
    # Only the gap is asked, in windows the sync query accepts, and the job's own date was enough.
    assert lake.sync_intervals[0][0] == reach - overlap and lake.sync_intervals[-1][1] == END
    assert all(e - s <= timedelta(days=runtime.settings.sync_query_max_days) for s, e in lake.sync_intervals)
    assert lake.availability_reads == 0


def test_the_availability_endpoint_is_read_once_per_batch_when_the_job_does_not_say(runtime):
    lake = FakeLake(job_says=None, endpoint_says=END - 2 * DAY - timedelta(hours=1))
    reach = LakeReach(lake)
    for _ in range(2):  # two groups of one batch
        found = find_with_job(runtime, lake, PREDS, START, END, reach)
        assert found.only_in_gap == {"new"}
    assert lake.availability_reads == 1
    assert lake.sync_intervals[0][0] >= END - 5 * DAY  # the gap, not the whole year


def test_when_nobody_says_how_far_the_lake_reaches_the_whole_interval_is_asked_in_real_time(runtime):
    lake = FakeLake(job_says=None, endpoint_says=None)
    found = find_with_job(runtime, lake, PREDS, START, END, LakeReach(lake))
    assert found.only_in_gap == {"new"}
    assert lake.sync_intervals[0][0] == START and lake.sync_intervals[-1][1] == END
