"""An approval is bound to the scope that was shown: the scope's digest (what deletion will act on, keyed,
order-insensitive, nothing in clear), the gate's decision, and what the gate does with an approval whose
scope is no longer the request's (superseded, the request waits, the audit says why in counts)."""

from __future__ import annotations

import json

import pytest

from services.deletion import tasks as deletion
from services.intake.approve import ScopeChanged, approve
from services.redaction import tasks as redaction
from shared import approval_gate, celery_app, pipeline
from shared.approval_gate import SCOPE_CHANGED, release_if_approved, supersede_stale_approval
from shared.approval_scope import approval_holds, current_scope, scope_digest, scope_summary, stale_approval
from shared.certificate import AS_DISCOVERED, build_certificate
from shared.models import Approval, ErasureRecord, RequestKind, RequestState, Subject, utcnow
from shared.task_names import DELETE_TASK

KEY = b"k" * 32  # the unit runtime's key (tests/unit/conftest.py)
IDENTITY = Subject(emails=["jane@example.org", "j.doe@work.example"], phones=["+4915112345678"], names=["Jane Doe"],
                   external_contact_ids=["ec-1"], cookie_ids=["ck-1"], user_id=None)
PERSONAL = [*IDENTITY.values(), "conv-1", "conv-2"]


def record(**changes: object) -> ErasureRecord:
    fields: dict[str, object] = dict(ticket="SC-1", subject=Subject(emails=["jane@example.org"]), identity=IDENTITY,
                                     verified_at=utcnow(), conversation_ids=["conv-1", "conv-2"])
    fields.update(changes)
    return ErasureRecord(**fields)  # type: ignore[arg-type]


def widened(base: ErasureRecord) -> ErasureRecord:
    """What redaction does when a transcript shows an address the subject typed."""
    identity = base.effective_identity
    return base.model_copy(update={"identity": identity.model_copy(
        update={"emails": [*identity.emails, "typed@elsewhere.example"]})})


# --- the digest ------------------------------------------------------------------------------------

def test_the_digest_ignores_order_and_repetition():
    shuffled = IDENTITY.model_copy(update={"emails": ["j.doe@work.example", "jane@example.org", "jane@example.org"]})
    again = record(identity=shuffled, conversation_ids=["conv-2", "conv-1", "conv-2"])
    assert scope_digest(KEY, again) == scope_digest(KEY, record())
    assert scope_digest(KEY, record()) == scope_digest(KEY, record())  # stable across calls


def test_the_digest_is_keyed_and_shows_nothing_in_clear():
    digest = scope_digest(KEY, record())
    assert digest.startswith("hmac-sha256:") and len(digest) == len("hmac-sha256:") + 64
    assert scope_digest(b"x" * 32, record()) != digest
    shown = current_scope(KEY, record()).model_dump_json()
    assert not [value for value in PERSONAL if value in shown]


@pytest.mark.parametrize("change", [
    {"identity": IDENTITY.model_copy(update={"emails": [*IDENTITY.emails, "typed@elsewhere.example"]})},
    {"identity": IDENTITY.model_copy(update={"phones": [*IDENTITY.phones, "+4915199999999"]})},
    {"identity": IDENTITY.model_copy(update={"external_contact_ids": ["ec-1", "ec-2"]})},
    {"identity": IDENTITY.model_copy(update={"cookie_ids": ["ck-1", "ck-2"]})},
    {"identity": IDENTITY.model_copy(update={"user_id": "u-1"})},
    {"conversation_ids": ["conv-1", "conv-2", "conv-3"]},
    {"sensitive_conversation_ids": ["conv-9"]},
])
def test_whatever_deletion_would_act_on_more_changes_the_digest(change):
    assert scope_digest(KEY, record(**change)) != scope_digest(KEY, record())


def test_names_are_scope_only_when_the_operator_opted_in_to_erase_by_name():
    other_name = IDENTITY.model_copy(update={"names": ["J. Doe"]})
    assert scope_digest(KEY, record(identity=other_name)) == scope_digest(KEY, record())
    assert scope_digest(KEY, record(identity=other_name, erase_by_name=True)) != \
        scope_digest(KEY, record(erase_by_name=True))
    assert scope_summary(record())[0]["names"] == 0 and scope_summary(record(erase_by_name=True))[0]["names"] == 1


def test_a_number_kept_out_as_reassigned_is_not_in_the_scope():
    kept_out = record(identity=IDENTITY.model_copy(update={"phones": [*IDENTITY.phones, "+4917000000001"]}),
                      excluded=Subject(phones=["+4917000000001"]))
    assert scope_digest(KEY, kept_out) == scope_digest(KEY, record())


def test_the_summary_counts_identifiers_by_kind_and_conversations():
    identifiers, conversations = scope_summary(record(sensitive_conversation_ids=["conv-2"]))
    assert identifiers == {"emails": 2, "phones": 1, "names": 0, "external_contacts": 1, "cookies": 1, "user": 0}
    assert conversations == 2


# --- the gate's decision -----------------------------------------------------------------------------

def bound(base: ErasureRecord, by: str = "dpo-desk") -> Approval:
    return Approval(by=by, key_id="key1", via="api", scope=current_scope(KEY, base))


def test_the_gate_honours_an_approval_only_for_the_scope_it_was_given_against():
    narrow = record()
    assert not approval_holds(KEY, narrow)  # no approval at all
    assert approval_holds(KEY, narrow.model_copy(update={"approval": bound(narrow)}))
    stale = widened(narrow).model_copy(update={"approval": bound(narrow)})
    assert not approval_holds(KEY, stale) and stale_approval(KEY, stale) == stale.approval


@pytest.mark.parametrize("via", ["preapproved", "intake", None])
def test_a_standing_approval_covers_the_subject_as_discovered(via):
    approval = Approval(by="dsar-upstream", via=via)
    assert approval_holds(KEY, widened(record(approval=approval)))


@pytest.mark.parametrize("status, missed, flagged", [
    ("summarised", [], False), ("summarised", ["conv-9"], True), ("unreadable", [], True), ("timeout", [], True),
    ("name_only", [], True)])
def test_no_approval_given_without_a_flagged_review_covers_the_request(status, missed, flagged):
    """Review before delete: what the export held that discovery missed (or an export nobody could read)
    was not in front of whoever approved without it, standing approvals included; one given with it is.
    No clocks are compared: the approval records whether the completed review was in front of the approver."""
    from shared.models import ExportReview

    review = ExportReview(status=status, missed_conversation_ids=missed, completed_at=utcnow())
    for approval in (Approval(by="dsar-upstream", via="intake"), bound(record())):
        assert approval_holds(KEY, record(review=review, approval=approval)) is not flagged
    seen = Approval(by="dpo", via="cli", reviewed=True)
    assert approval_holds(KEY, record(review=review, approval=seen))


def test_a_release_of_held_conversations_is_not_re_gated():
    # Round 1 and later act on what the approved erasure named, on a scrubbed record.
    released = widened(record(recording_round=1)).model_copy(update={"approval": bound(record())})
    assert approval_holds(KEY, released)


# --- the gate's action ---------------------------------------------------------------------------------

@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[str, object]] = []

    def send_task(name, args=None, **kw):
        calls.append((name, args))

    for module in (approval_gate, pipeline):
        monkeypatch.setattr(celery_app.app, "send_task", send_task)
    return calls


def waiting(runtime, approval: Approval | None, *, state=RequestState.AWAITING_APPROVAL, **changes) -> str:
    """A request at ``state`` whose scope widened after ``approval`` was given against the narrower one."""
    stored = widened(record(**changes)).model_copy(update={"approval": approval, "state": state})
    stored.subject_digest = runtime.digest(stored)
    return runtime.store.create(stored).request_id


def audited(runtime, request_id, event):
    return [e for e in runtime.audit.entries_for(request_id) if e["event"] == event]


def test_a_stale_approval_is_superseded_at_the_gate_and_a_new_one_releases(runtime, sent):
    early = bound(record())
    request_id = waiting(runtime, early)
    assert release_if_approved(runtime, request_id) is None
    assert sent == []  # nothing sent to deletion
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.AWAITING_APPROVAL and stored.approval is None
    assert stored.superseded_approvals == [early]
    assert stored.reason is not None and stored.reason.startswith(SCOPE_CHANGED) and "emails" not in stored.reason
    [entry] = audited(runtime, request_id, "approval.scope_changed")
    assert entry["details"]["identifiers_before"]["emails"] == 2 and entry["details"]["identifiers_now"]["emails"] == 3
    assert not [value for value in [*PERSONAL, "typed@elsewhere.example"] if value in json.dumps(entry)]

    again = approve(runtime, "SC-1", "dpo-desk", key_id="key1", via="api")
    assert again.state is RequestState.DELETING and sent == [(DELETE_TASK, [[request_id]])]
    assert again.approval is not None and again.approval.scope == current_scope(KEY, stored)
    assert again.reason is None and again.superseded_approvals == [early]
    certificate = build_certificate(again, "hmac-sha256:abc", None)
    assert certificate["approval"]["scope"]["digest"] == scope_digest(KEY, stored)
    assert certificate["superseded_approvals"][0]["scope"]["identifiers"]["emails"] == 2


def test_a_stale_approval_is_superseded_once(runtime, sent):
    request_id = waiting(runtime, bound(record()))
    first_read = runtime.store.get(request_id)
    assert supersede_stale_approval(runtime, first_read)
    assert supersede_stale_approval(runtime, first_read)  # a second caller with the same read (a resume)
    assert len(runtime.store.get(request_id).superseded_approvals) == 1
    assert len(audited(runtime, request_id, "approval.scope_changed")) == 1


def test_an_approval_of_the_current_scope_is_released(runtime, sent):
    request_id = waiting(runtime, None)
    current = runtime.store.get(request_id)
    runtime.store.update(request_id, approval=bound(current))
    assert release_if_approved(runtime, request_id) is not None
    assert sent == [(DELETE_TASK, [[request_id]])]


def test_approving_with_a_scope_that_is_not_the_requests_any_more_is_refused(runtime, sent):
    request_id = waiting(runtime, None)
    shown_before = scope_digest(KEY, record())  # what the approver looked at, before the widening
    with pytest.raises(ScopeChanged) as refused:
        approve(runtime, "SC-1", "dpo-desk", key_id="key1", via="api", scope=shown_before)
    assert refused.value.status == 409
    assert runtime.store.get(request_id).approval is None and sent == []
    ok = approve(runtime, "SC-1", "dpo-desk", key_id="key1", via="api", scope=scope_digest(KEY, runtime.store.get(request_id)))
    assert ok.state is RequestState.DELETING


@pytest.fixture
def eager(runtime, monkeypatch, sent):
    """Tasks run in this process on this runtime; no platform calls are needed for what these tests reach."""
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    monkeypatch.setattr(runtime, "genesys", lambda pool: None)


def test_redaction_parks_a_request_whose_approval_predates_the_widening(runtime, eager, sent):
    early = bound(record())
    request_id = waiting(runtime, early, state=RequestState.REDACTING, message_conversation_ids=[])
    redaction.scan.apply(args=[[request_id]])
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.AWAITING_APPROVAL and stored.approval is None
    assert stored.superseded_approvals == [early] and sent == []


def test_redaction_lets_a_pre_approved_request_through_however_the_scope_widened(runtime, eager, sent):
    request_id = waiting(runtime, Approval(by="dsar-upstream", key_id="key9", via="preapproved"),
                         state=RequestState.REDACTING, message_conversation_ids=[])
    redaction.scan.apply(args=[[request_id]])
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.DELETING and stored.superseded_approvals == []
    assert (DELETE_TASK, [request_id]) in [(name, list(args[0]) if args else None) for name, args in sent]
    assert build_certificate(stored, "hmac-sha256:abc", None)["approval"]["scope"] == AS_DISCOVERED


def test_deletion_refuses_a_request_whose_approval_no_longer_covers_it(runtime, eager, sent):
    early = bound(record())
    request_id = waiting(runtime, early, state=RequestState.DELETING)
    deletion.erase.apply(args=[[request_id]])  # would raise on its first platform call (no client)
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.AWAITING_APPROVAL and stored.superseded_approvals == [early]
    assert stored.gdpr_request_ids == [] and sent == []
    [refusal] = audited(runtime, request_id, "deletion.refused_unapproved")
    assert refusal["details"]["approval"] == "scope_changed"



def test_an_unapproved_access_request_waits_at_the_gate_and_nothing_is_exported(runtime, eager, sent):
    """An export hands the subject's data to whoever reads its link: the deletion pool submits no
    GDPR_EXPORT for an access request without an approval, as it deletes nothing without one."""
    request_id = waiting(runtime, None, state=RequestState.DELETING, kind=RequestKind.ACCESS)
    deletion.erase.apply(args=[[request_id]])  # would raise on its first platform call (no client)
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.AWAITING_APPROVAL and stored.gdpr_request_ids == [] and sent == []
    assert audited(runtime, request_id, "deletion.refused_unapproved")


# --- review before delete at the gate --------------------------------------------------------------------

def test_no_approval_is_taken_while_the_review_runs_and_one_given_after_it_says_so(runtime, sent):
    from services.intake.approve import ReviewPending
    from shared.models import ExportReview

    reviewing = waiting(runtime, None, state=RequestState.REVIEWING, ticket="REV-A",
                        review=ExportReview(gdpr_request_ids=["g-1"]))
    with pytest.raises(ReviewPending) as refused:
        approve(runtime, "REV-A", "dpo", via="cli")
    assert refused.value.status == 409 and runtime.store.get(reviewing).approval is None
    reviewed = waiting(runtime, None, ticket="REV-B", review=ExportReview(status="unreadable", completed_at=utcnow()))
    approved = approve(runtime, "REV-B", "dpo", via="cli")
    assert approved.approval is not None and approved.approval.reviewed
    assert runtime.store.get(reviewed).state is RequestState.DELETING


def test_a_flagged_review_waits_for_a_person_even_where_approval_is_off(runtime, sent, monkeypatch):
    from shared.approval_gate import to_gate
    from shared.models import ExportReview

    monkeypatch.setattr(runtime.settings, "require_approval", False)
    flagged = ExportReview(status="summarised", missed_conversation_ids=["conv-9"], completed_at=utcnow())
    clean = ExportReview(status="summarised", completed_at=utcnow())
    for ticket, review, expected in (("OFF-1", flagged, RequestState.AWAITING_APPROVAL),
                                     ("OFF-2", clean, RequestState.DELETING)):
        request_id = waiting(runtime, None, state=RequestState.REVIEWING, ticket=ticket)
        to_gate(runtime, runtime.store.get(request_id), "review.completed", {}, expect=RequestState.REVIEWING,
                review=review)
        assert runtime.store.get(request_id).state is expected
