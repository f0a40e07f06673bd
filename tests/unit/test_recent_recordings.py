"""Recordings younger than the recording jobs' lag are deleted one by one, not left to a job that cannot
see them yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.deletion.recent_recordings import delete_recent_recordings, recent_conversations
from shared.genesys.models import AnalyticsConversation, Recording
from shared.models import ErasureRecord, Subject
from shared.recording_jobs import iso_ms

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
LAG_S = 48 * 3600.0


def _conv(cid: str, ended_ago: timedelta | None) -> AnalyticsConversation:
    body: dict = {"conversationId": cid, "participants": []}
    if ended_ago is not None:
        body["conversationEnd"] = iso_ms(datetime.now(UTC) - ended_ago)
    return AnalyticsConversation.model_validate(body)


class FakeRecordings:
    def __init__(self, ends: dict[str, timedelta | None], gone: set[str] = frozenset()) -> None:
        self.ends, self.gone = ends, gone
        self.put: list[tuple[str, str]] = []
        self.listed: list[str] = []

    def get_conversation_details(self, ids):
        return [_conv(c, self.ends[c]) for c in ids if c in self.ends]

    def conversation_recordings(self, cid):
        self.listed.append(cid)
        return [Recording(id=f"{cid}-r1"), Recording(id=f"{cid}-r2")]

    def delete_recording_now(self, cid, rid, when):
        self.put.append((cid, rid))
        return rid not in self.gone


def test_recent_means_ended_inside_the_lag_or_not_ended_at_all():
    fake = FakeRecordings({"old": timedelta(days=3), "new": timedelta(hours=1), "live": None})
    found = recent_conversations(fake, ["old", "new", "live", "unknown"], LAG_S, datetime.now(UTC))
    assert sorted(found) == ["live", "new"]
    assert recent_conversations(fake, ["new"], 0, datetime.now(UTC)) == []  # lag off


def test_only_recent_conversations_have_their_recordings_deleted_one_by_one(runtime):
    fake = FakeRecordings({"old": timedelta(days=3), "new": timedelta(hours=1)}, gone={"new-r2"})
    record = ErasureRecord(ticket="T-1", subject=Subject(emails=["a@example.org"]), verified_at=NOW)
    deleted = delete_recent_recordings(runtime, fake, record, ["old", "new", "new"])
    assert fake.listed == ["new"]
    assert fake.put == [("new", "new-r1"), ("new", "new-r2")]
    assert deleted == 1  # one was already gone (404): nothing to count
    [entry] = [e for e in runtime.audit.entries() if e["event"] == "deletion.recent_recordings_deleted"]
    assert entry["details"] == {"conversations": 1, "recordings": 1, "recording_lag_s": runtime.settings.recording_lag_s}
    assert "a@example.org" not in str(entry)
