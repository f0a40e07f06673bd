"""Recordings a recording job may not see yet, deleted one by one.

Recording bulk jobs read a data lake that new recordings reach up to 48 h late (SDK recording-jobs doc;
``Settings.recording_lag_s``): a job over a conversation that ended more recently can end FULFILLED without
touching its recordings. The recordings of those conversations are therefore also given a due
``deleteDate`` (``PUT /api/v2/conversations/{cid}/recordings/{rid}``), only for conversations that passed
the same holds check as the job. Idempotent: a recording already gone answers 404 and is skipped.
Verification reads every recording back in real time, so one still there is a remnant, never "erased".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.genesys import GenesysClient
from shared.models import ErasureRecord, utcnow
from shared.recording_jobs import iso_ms, parse_stamp
from shared.runtime import Runtime


def recent_conversations(client: GenesysClient, conversation_ids: list[str], lag_s: float,
                         now: datetime) -> list[str]:
    """The conversations that ended less than ``lag_s`` ago (or have not ended): read by id, real-time.
    One the platform no longer knows has nothing left to delete."""
    if lag_s <= 0 or not conversation_ids:
        return []
    cutoff = now - timedelta(seconds=lag_s)
    return [c.conversation_id for c in client.get_conversation_details(conversation_ids)
            if c.conversation_end is None or parse_stamp(c.conversation_end) > cutoff]


def delete_recent_recordings(runtime: Runtime, client: GenesysClient, record: ErasureRecord,
                             conversation_ids: list[str]) -> int:
    """Delete the recordings of the recent ones among ``conversation_ids`` one by one; how many were."""
    now = utcnow()
    recent = recent_conversations(client, list(dict.fromkeys(conversation_ids)),
                                  runtime.settings.recording_lag_s, now)
    deleted = 0
    for conversation_id in recent:
        for recording in client.conversation_recordings(conversation_id) or []:
            # None (still being prepared) is left to verification, which reads it as a remnant.
            deleted += client.delete_recording_now(conversation_id, recording.id, iso_ms(now))
    if recent:
        runtime.audit.append("deletion.recent_recordings_deleted", request_id=record.request_id,
                             subject=runtime.digest(record),
                             details={"conversations": len(recent), "recordings": deleted,
                                      "recording_lag_s": runtime.settings.recording_lag_s})
    return deleted
