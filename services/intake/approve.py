"""The approval gate: who approved an erasure, and when. Deletion refuses to act without it.

Approving a request that waits in ``awaiting_approval`` sends it to deletion; approving one still
in discovery records the approval so it goes straight through when it gets there, unless discovery or
redaction widened its scope meanwhile: an approval is bound to the scope it was given against
(``shared.approval_scope``), and the gate supersedes one whose scope is no longer the request's.
"""

from __future__ import annotations

from shared.api_keys import NAME_RULE, ApiKeyStore, is_name, same_person
from shared.approval_gate import reason_after_approval, release_if_approved
from shared.approval_scope import current_scope
from shared.errors import ErasureError
from shared.free_text import one_line, without_the_subject
from shared.lanes import send_ids
from shared.models import Approval, ErasureRecord, RequestState
from shared.pii.engine import scrub
from shared.pipeline import transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK


class ApprovalError(ErasureError, ValueError):
    """The approval was refused; ``status`` is the HTTP answer that says why."""

    status = 422


class UnknownTicket(ApprovalError):
    status = 404


class AlreadyDecided(ApprovalError):
    status = 409


class ScopeChanged(ApprovalError):
    """Optimistic concurrency: the approver names the scope it was shown, and it is no longer the request's."""

    status = 409


class ReviewPending(ApprovalError):
    """Review before delete is still reading the platform's export: an approval now would not have seen it."""

    status = 409


class OwnRequest(ApprovalError):
    """Four eyes: the key that submitted a request may not approve it, whatever its scopes."""

    status = 403


def own_request(runtime: Runtime, record: ErasureRecord, key_id: str | None, person: str | None) -> bool:
    """Four eyes: whether the approver submitted ``record``, by the same key, or as the person behind the
    key that did (a service key's ``owner``, or the person's own key)."""
    if key_id is not None and record.submitted_by == key_id:
        return True
    if person is None or record.submitted_by is None:
        return False
    return same_person(ApiKeyStore(runtime.redis, runtime.keys).person_of(record.submitted_by), person)


def _decidable(runtime: Runtime, ticket: str, key_id: str | None, person: str | None, own: str) -> ErasureRecord:
    """The request under ``ticket``, if this caller may decide it: not their own (four eyes, ``own`` says so)."""
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise UnknownTicket(f"ticket: no request with ticket {ticket!r}")
    if own_request(runtime, record, key_id, person):
        raise OwnRequest(own)
    return record


def approve(runtime: Runtime, ticket: str, by: str, *, key_id: str | None = None, via: str = "cli",
            scope: str | None = None, person: str | None = None) -> ErasureRecord:
    """Record ``by``'s approval: an API key (``key_id``, never the key that submitted the request) or,
    with no key, the operator at the CLI (break-glass).

    The approval is bound to the request's scope as it stands now (``shared.approval_scope``): if discovery
    or redaction widens it later, the gate stops honouring it. ``scope``, the digest the approver was shown,
    makes that explicit: a request whose scope is no longer that one is refused (``ScopeChanged``).
    ``person``: the person behind the approving key, refused for what a key of theirs submitted."""
    approver = by.strip()
    if not approver:
        raise ApprovalError("by: say who approves (a name or role)")
    if not is_name(approver):
        # It is written to the audit log and the signed certificate: a key name's shape, so no newline or
        # terminal escape rides along (every door's rule; a key's own name always has it). Never repeated.
        raise ApprovalError(f"by: must be a name as an API key's: {NAME_RULE}")
    record = _decidable(runtime, ticket, key_id, person, "approval: the key that submitted a request cannot "
                        "approve it (four eyes); approve with another key")
    if record.approval is not None:
        raise AlreadyDecided(f"ticket: request {ticket!r} was already approved by {record.approval.by}")
    if record.state.is_final:
        raise AlreadyDecided(f"ticket: request {ticket!r} is already {record.state.value}")
    if record.state is RequestState.REVIEWING:
        raise ReviewPending(f"ticket: request {ticket!r} is being reviewed before delete (the platform's export is "
                            "being read); approve once it waits at the gate, with the review in front of you")
    shown = current_scope(runtime.settings.require_hmac_key(), record)
    if scope is not None and scope != shown.digest:
        raise ScopeChanged("scope: the scope changed since you looked; read the request again and approve the "
                           "scope it shows now")
    reviewed = record.review is not None and record.review.status != "pending"
    approval = Approval(by=approver, key_id=key_id, via=via, scope=shown, reviewed=reviewed)
    details = {"approved_by": approver, "key_id": key_id, "via": via, "scope": shown.digest,
               "identifiers": shown.identifiers, "conversations": shown.conversations}
    released = transition(runtime, record.request_id, RequestState.DELETING, "approval.recorded",
                          details=details, expect=RequestState.AWAITING_APPROVAL, approval=approval,
                          reason=reason_after_approval(record))
    if released is not None:
        send_ids(DELETE_TASK, [record.request_id], lane=record.lane)
        return released
    # Still on its way (discovery, redaction): record the approval atomically with a state check, so a
    # request that reaches the gate meanwhile is not missed...
    # Not while REVIEWING either: an approval must not land during the review it has not seen.
    earlier = tuple(s for s in RequestState if not s.is_final
                    and s not in (RequestState.AWAITING_APPROVAL, RequestState.REVIEWING))
    updated = runtime.store.update_if(record.request_id, earlier, approval=approval)
    if updated is None:
        current = runtime.store.get(record.request_id)
        if current.state.is_final:
            raise AlreadyDecided(f"ticket: request {ticket!r} is already {current.state.value}")
        # It reached the gate just now: release it there, if its scope is still the one this call saw.
        return approve(runtime, ticket, by, key_id=key_id, via=via, scope=scope or shown.digest, person=person)
    runtime.audit.append("approval.recorded", request_id=record.request_id, subject=runtime.digest(record),
                         details={**details, "state": updated.state.value})
    # ...and if redaction parked it at the gate just before, having read no approval, release it now.
    return release_if_approved(runtime, record.request_id) or updated


def reject(runtime: Runtime, ticket: str, by: str, reason: str, *, key_id: str | None = None,
           person: str | None = None, via: str = "console") -> ErasureRecord:
    """Refuse an erasure waiting at the gate: it ends REJECTED (scrubbed, no certificate), with ``reason``
    for whoever submitted it. The same four eyes as an approval: a submitter cannot reject their own."""
    # Kept on the record, sent on and printed by `erasure status`: never an identifier typed into it, nor a
    # control character (``shared.free_text``: line breaks become spaces, escapes and bidi controls go).
    # one_line again after the scrub: it decodes percent-encoding, which could bring a %0A or %1B back.
    why = one_line(scrub(one_line(reason).strip()))[:500].strip()
    if not why:
        raise ApprovalError("reason: say why the request is rejected")
    record = _decidable(runtime, ticket, key_id, person,
                        "rejection: the key that submitted a request cannot decide it (four eyes)")
    if record.state is not RequestState.AWAITING_APPROVAL or record.approval is not None:
        raise AlreadyDecided(f"ticket: request {ticket!r} is not waiting for a decision")
    why = without_the_subject(why, record.effective_identity)
    rejected = transition(runtime, record.request_id, RequestState.REJECTED, "approval.rejected",
                          details={"rejected_by": by, "key_id": key_id, "via": via},
                          expect=RequestState.AWAITING_APPROVAL, reason=f"rejected by {by}: {why}")
    if rejected is None:
        raise AlreadyDecided(f"ticket: request {ticket!r} was decided meanwhile")
    return rejected
