"""The erasure certificate (design step 7): every field a DPO shows a regulator, taken from the request's
record, and no personal data. The deadline verdict is tested in test_deadlines.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.certificate import NAMES_BASIS, REASSIGNED_BASIS, build_certificate, certificate_json, withheld
from shared.models import Approval, ErasureRecord, RequestState, Subject, Verification, WithheldRecord

VERIFIED = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
JANE = Subject(emails=["jane@example.org"], phones=["+4915112345678"], names=["Jane Doe"])
# What discovery found: a second address, a contact id, and two numbers that later owners use.
IDENTITY = Subject(emails=["jane@example.org", "j.doe@work.example", "old@example.net"],
                   phones=["+4915112345678", "+4915187654321", "+4917000000001"], names=["Jane Doe"],
                   external_contact_ids=["ec-1"])
EXCLUDED = Subject(phones=["+4915187654321", "+4917000000001"], emails=["old@example.net"])
PERSONAL = [*IDENTITY.values(), "Jane", "Doe"]


def full_record(**changes: object) -> ErasureRecord:
    fields: dict[str, object] = dict(
        request_id="req-7", ticket="DSAR-7", subject=JANE, identity=IDENTITY, excluded=EXCLUDED,
        verified_at=VERIFIED, received_at=VERIFIED + timedelta(hours=1), submitted_at=VERIFIED + timedelta(days=2),
        completed_at=VERIFIED + timedelta(days=3), approval=Approval(by="dpo@corp", at=VERIFIED + timedelta(days=1)),
        state=RequestState.COMPLETED_WITH_WITHHELD, gdpr_request_ids=["g-1", "g-2"], recording_job_ids=["j-1"],
        conversation_ids=["c-1", "c-2", "c-3"], contacts_deleted=["ec-1"], recording_conversation_ids=["c-1", "c-2"],
        users_deleted=1, erase_by_name=True, gdpr_names_sent=True, failed_recordings=["c-3/r-9"],
        blocked=["gdpr_delete: conflict.deletion.protected"],
        withheld=[WithheldRecord(kind="conversation", id="c-4", hold="h1", reason="litigation CASE-17",
                                 basis="Art. 17(3)(e)")],
        verification=Verification(ok=True, checked_conversations=3, checked_identifiers=4,
                                  at=VERIFIED + timedelta(days=3, minutes=-5)),
    )
    fields.update(changes)
    return ErasureRecord(**fields)  # type: ignore[arg-type]


def test_every_field_of_a_full_certificate():
    cert = build_certificate(full_record(), "hmac-sha256:abc", "41:" + "f" * 64)
    assert cert == {
        "certificate_version": 2,
        "ticket": "DSAR-7",
        "request_id": "req-7",
        "kind": "erase",
        "subject_digest": "hmac-sha256:abc",
        "outcome": "completed_with_withheld",
        "received_at": "2026-02-02T09:00:00+00:00",
        "verified_at": "2026-02-02T08:00:00+00:00",
        "submitted_at": "2026-02-04T08:00:00+00:00",
        "completed_at": "2026-02-05T08:00:00+00:00",
        "deadline": "2026-03-04T08:00:00+00:00",
        "deadline_met": True,
        "approval": {"by": "dpo@corp", "at": "2026-02-03T08:00:00Z", "scope": "as discovered"},
        "superseded_approvals": [],
        "platform": {"gdpr_request_ids": ["g-1", "g-2"], "recording_job_ids": ["j-1"]},
        "retention_policy": None,
        "names": {"erase_by_name": True, "sent_to_gdpr_delete": True, "not_sent": 0},
        "erased": {"identifiers": 5, "conversations": 3, "external_contacts": 1, "recordings_of_conversations": 2,
                   "users": 1},
        "recordings_deferred_to_retention_purge": False,
        "failed_recordings": ["c-3/r-9"],
        "blocked": ["gdpr_delete: conflict.deletion.protected"],
        "withheld": [
            {"kind": "conversation", "id": "c-4", "count": 1, "hold": "h1", "reason": "litigation CASE-17",
             "basis": "Art. 17(3)(e)"},
            {"kind": "identifier:phone", "count": 2, "basis": REASSIGNED_BASIS},
            {"kind": "identifier:email", "count": 1, "basis": REASSIGNED_BASIS},
        ],
        "verification": {"ok": True, "checked_conversations": 3, "checked_identifiers": 4, "remnants": [],
                         "at": "2026-02-05T07:55:00Z"},
        "reason": None,
        "callback": None,
        # Where the audit chain stood at issue, seq and hash explicit (the stored head is "<seq>:<hash>").
        "audit_position": {"seq": 41, "hash": "f" * 64},
        "audit_chain_head": "f" * 64,
        "complete": True,
        "anonymised": None,  # only an anonymise request counts what was replaced
    }


def test_the_certificate_holds_no_personal_data():
    text = certificate_json(build_certificate(full_record(), "hmac-sha256:abc", None))
    assert not [value for value in PERSONAL if value in text]


def test_reassigned_identifiers_are_withheld_by_count_not_counted_as_erased():
    cert = build_certificate(full_record(), "hmac-sha256:abc", None)
    erasable = len(IDENTITY.values()) - len(EXCLUDED.values())
    assert cert["erased"]["identifiers"] == erasable == 5
    assert sum(w["count"] for w in cert["withheld"] if w["kind"].startswith("identifier:")) == 3


def test_what_was_not_erased_is_named_only_when_there_is_some():
    assert withheld(full_record(withheld=[], excluded=None)) == []
    assert withheld(full_record(withheld=[], excluded=Subject())) == []
    only_email = withheld(full_record(withheld=[], excluded=Subject(emails=["old@example.net"])))
    assert only_email == [{"kind": "identifier:email", "count": 1, "basis": REASSIGNED_BASIS}]
    names_only = withheld(full_record(withheld=[], excluded=Subject(names=["Jane Doe"])))
    assert names_only == []  # only phones and emails are kept out of a platform-wide request


def test_a_subject_held_as_a_whole_has_no_conversation_id():
    hold = WithheldRecord(kind="subject", hold="h9", reason="regulator inquiry", basis="Art. 17(3)(e)")
    assert withheld(full_record(withheld=[hold], excluded=None)) == [
        {"kind": "subject", "count": 1, "hold": "h9", "reason": "regulator inquiry", "basis": "Art. 17(3)(e)"}]


def test_what_a_request_did_not_reach_is_null_not_invented():
    bare = full_record(submitted_at=None, approval=None, verification=None, identity=None, excluded=None,
                       withheld=[], gdpr_request_ids=[], recording_job_ids=[], conversation_ids=[], contacts_deleted=[],
                       recording_conversation_ids=[], users_deleted=0, failed_recordings=[], blocked=[],
                       state=RequestState.PARTIAL, reason="platform request g-1 ended in ERROR: open a support case")
    cert = build_certificate(bare, "hmac-sha256:abc", None)
    assert cert["submitted_at"] is None and cert["approval"] is None and cert["verification"] is None
    assert cert["audit_chain_head"] is None and cert["audit_position"] is None and cert["withheld"] == []
    assert cert["erased"] == {"identifiers": 3, "conversations": 0, "external_contacts": 0,
                              "recordings_of_conversations": 0, "users": 0}  # the subject as submitted
    assert cert["reason"] == "platform request g-1 ended in ERROR: open a support case"
    assert cert["outcome"] == "partial" and cert["complete"] is False


def test_a_retention_purge_names_its_policy_and_deferred_recordings():
    cert = build_certificate(full_record(purge_policy="RET-2026-01: conversations older than 5 years",
                                         recordings_deferred=True, approval=None), "hmac-sha256:abc", None)
    assert cert["retention_policy"] == "RET-2026-01: conversations older than 5 years"
    assert cert["recordings_deferred_to_retention_purge"] is True and cert["approval"] is None


@pytest.mark.parametrize(("state", "complete"), [
    (RequestState.COMPLETED, True),
    (RequestState.COMPLETED_WITH_WITHHELD, True),
    (RequestState.PARTIAL, False),
    (RequestState.FAILED, False),
    (RequestState.REJECTED, False),
])
def test_complete_only_when_the_erasure_completed(state, complete):
    cert = build_certificate(full_record(state=state), "hmac-sha256:abc", None)
    assert cert["complete"] is complete and cert["outcome"] == state.value


def test_the_json_form_is_for_people_and_machines():
    """Stored and printed as is (``erasure certificate``): it reads back to the same certificate, one field
    a line, indented by two, in alphabetical order so that two certificates compare line by line."""
    cert = build_certificate(full_record(), "hmac-sha256:abc", "41:" + "f" * 64)
    text = certificate_json(cert)
    assert json.loads(text) == cert
    top = [line for line in text.splitlines() if line.startswith('  "')]
    keys = [line.split('"')[1] for line in top]
    assert keys == sorted(cert) and len(keys) == len(cert)
    nested = [line for line in text.splitlines() if line.startswith('    "')]
    assert nested and all(not line.startswith('     ') for line in nested)


def test_the_certificate_says_whether_names_went_with_the_gdpr_delete():
    from shared.certificate_html import render_certificate_html

    default = build_certificate(full_record(erase_by_name=False, gdpr_names_sent=False), "hmac-sha256:abc", None)
    assert default["names"] == {"erase_by_name": False, "sent_to_gdpr_delete": False, "not_sent": 1,
                                "basis": NAMES_BASIS}
    assert default["erased"]["identifiers"] == 4  # the name was only searched with, never erased
    assert 'id="names-sent">no (' in render_certificate_html(default)
    opted = build_certificate(full_record(), "hmac-sha256:abc", None)
    assert opted["names"] == {"erase_by_name": True, "sent_to_gdpr_delete": True, "not_sent": 0}
    # Not a withheld record (nothing holds it back): the names block says what was only searched with.
    assert not [w for w in default["withheld"] if w["kind"].startswith("identifier:name")]
    assert 'id="names-sent">yes (' in render_certificate_html(opted)
