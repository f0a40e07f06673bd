"""Withheld records in the certificate carry the hold and its basis, never personal data. (The crash
point's tests moved with it to the test harness: tests/unit/test_crashing_worker.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from services.deletion.holds import hold_reason
from shared.certificate import build_certificate
from shared.holds import DEFAULT_BASIS, merge_withheld
from shared.models import ErasureRecord, RequestState, Subject, WithheldRecord


def held(cid: str | None, hold: str = "h1", kind: str = "conversation") -> WithheldRecord:
    return WithheldRecord(kind=kind, id=cid, hold=hold, reason="litigation CASE-17", basis=DEFAULT_BASIS)


def test_certificate_names_each_withheld_conversation_with_its_hold_and_basis():
    record = ErasureRecord(
        ticket="T-1", subject=Subject(emails=["jane@example.org"]), verified_at=datetime(2026, 1, 1, tzinfo=UTC),
        state=RequestState.COMPLETED_WITH_WITHHELD, withheld=[held("c-1"), held("c-2", "platform:deletionprotection")],
        recording_conversation_ids=["c-3", "c-4"], recording_job_ids=["j-1"], users_deleted=1)
    cert = build_certificate(record, "hmac-sha256:abc", None)
    assert cert["withheld"] == [
        {"kind": "conversation", "id": "c-1", "count": 1, "hold": "h1", "reason": "litigation CASE-17",
         "basis": DEFAULT_BASIS},
        {"kind": "conversation", "id": "c-2", "count": 1, "hold": "platform:deletionprotection",
         "reason": "litigation CASE-17", "basis": DEFAULT_BASIS},
    ]
    assert cert["complete"] is True and cert["platform"]["recording_job_ids"] == ["j-1"]
    assert cert["erased"]["recordings_of_conversations"] == 2 and cert["erased"]["users"] == 1
    assert "jane@example.org" not in str(cert)


def test_subject_hold_reason_and_merging():
    subject_hold = held(None, "h9", kind="subject")
    reason = hold_reason([subject_hold])
    assert "h9" in reason and DEFAULT_BASIS in reason and "erasure release-held" in reason
    merged = merge_withheld([held("c-1")], [held("c-1", "h2"), held("c-2")])
    assert [(w.id, w.hold) for w in merged] == [("c-1", "h1"), ("c-2", "h1")]
