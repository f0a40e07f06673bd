"""Access requests (Art. 15): one GDPR_EXPORT per GDPR subject of the request, each exactly once.

An access request comes through discovery and redaction like an erasure (so the export names every
identifier found, typed emails too) and reaches this pool without an approval gate: it deletes nothing.
No legal hold keeps it back either (a hold stops destruction, not a copy for the subject). Its GDPR
subjects are the erasure's (``gdpr_subjects_for``: one per further contact or cookie), never with a name:
the platform searches by name, and an export by name would hand a namesake's data to this subject
(``erase_by_name`` is refused at intake). A subject known only by a name has nothing to export by: the
request fails with that reason.

Exactly once: each GDPR_EXPORT goes through the effect ledger under its own effect (``gdpr_export``, and
``gdpr_export:<hash>`` for a further one) and platform name (``erasure-<request id>``, likewise suffixed),
and is reconciled against the index of the platform's GDPR requests (``gdpr_index``) by that name, or by
type and exact subject when the platform dropped the name, before a first call as well as after a lost
answer: the protection a GDPR_DELETE has. Then the request goes to POLLING and the polling pool follows it.
"""

from __future__ import annotations

import logging

from services.deletion.gdpr_index import GdprRequests
from services.deletion.tasks import _gdpr_identity, gdpr_effect, gdpr_subjects_for
from shared.approval_scope import approval_holds
from shared.effects import Done, Outcome, Via
from shared.genesys import GenesysClient
from shared.genesys.models import GdprSubject
from shared.models import ErasureRecord, RequestState, utcnow
from shared.pipeline import handing_on, isolated, transition
from shared.runtime import Runtime
from shared.task_names import POLL_START_TASK

log = logging.getLogger("erasure.deletion")

GDPR_EXPORT = "GDPR_EXPORT"
#: A request type the index keeps no nameless entries of: ``GdprRequests.find`` then matches by name alone.
NAMED_ONLY = "named-only"
EXPORT_EFFECT = "gdpr_export"


def export_effect(request_id: str, subject: GdprSubject, first: bool) -> tuple[str, str]:
    """The ledger effect and platform name of one of a request's GDPR_EXPORTs (``gdpr_effect``'s scheme)."""
    effect, name = gdpr_effect(request_id, subject, first)
    return EXPORT_EFFECT + effect.removeprefix("gdpr_delete"), name


def export_access_requests(runtime: Runtime, client: GenesysClient, records: list[ErasureRecord]) -> None:
    """Submit the GDPR_EXPORTs of the batch's access requests (loaded in DELETING by the deletion task) and
    hand them to polling."""
    if not records:
        return
    records = [r for r in records if not _unapproved(runtime, r)]
    listed = GdprRequests(runtime, client)
    listed.prepare([r for r in records if _gdpr_identity(r)])
    submitted: list[str] = []
    with handing_on(POLL_START_TASK, submitted):
        for record in records:
            with isolated(runtime, record, "deletion"):
                if not _gdpr_identity(record):
                    transition(runtime, record.request_id, RequestState.FAILED, "deletion.export_name_only",
                               expect=RequestState.DELETING,
                               reason="only a name identifies the subject, and a GDPR_EXPORT by name would include "
                                      "namesakes' data: nothing was exported; resubmit under a new ticket with an "
                                      "email, phone, external contact or user id of the subject")
                    continue
                ids = [submit_export(runtime, client, record, listed, subject, export_effect(record.request_id, subject, n == 0))
                       for n, subject in enumerate(gdpr_subjects_for(record))]
                moved = transition(runtime, record.request_id, RequestState.POLLING, "deletion.export_submitted",
                                   details={"gdpr_request_ids": ids}, gdpr_request_ids=ids,
                                   submitted_at=record.submitted_at or utcnow(), expect=RequestState.DELETING)
                if moved is not None:
                    submitted.append(record.request_id)


def _unapproved(runtime: Runtime, record: ErasureRecord) -> bool:
    """An export hands one person's data to whoever holds its link: four eyes, as for an erasure. Without a
    covering approval the request goes back to the gate (True) and nothing is exported."""
    if not runtime.settings.require_approval or approval_holds(runtime.settings.require_hmac_key(), record):
        return False
    transition(runtime, record.request_id, RequestState.AWAITING_APPROVAL, "deletion.refused_unapproved",
               expect=RequestState.DELETING, details={"kind": "access"})
    return True


def submit_export(runtime: Runtime, client: GenesysClient, record: ErasureRecord, listed: GdprRequests,
                  subject: GdprSubject, effect_and_name: tuple[str, str], event: str = "deletion.gdpr_export",
                  adopt_nameless: bool = True) -> str:
    """Submit one GDPR_EXPORT of this request under its ledger effect and platform name (an access request's
    ``export_effect``, a review's ``review_effect``), or find the one already submitted; its platform id.

    ``adopt_nameless=False`` finds an earlier submission by its name alone: where the platform drops names,
    a nameless GDPR_EXPORT of the same subject may be another request's (an access request's and a review's
    look alike), and a second review export costs only a download, never data."""
    request_id = record.request_id
    effect, name = effect_and_name

    def call() -> Outcome:
        created = client.create_gdpr_request(GDPR_EXPORT, subject, name=name)
        listed.remember_creator(created)
        return Done(created.id)

    def find() -> str | None:
        return listed.find(record, subject, name, request_type=GDPR_EXPORT if adopt_nameless else NAMED_ONLY)

    outcome = runtime.effects.once(request_id, effect, call, reconcile=lambda _: find(), unrecorded=find)
    if not isinstance(outcome, Done):  # an export is never "already gone"; a 409 is the platform refusing it
        raise RuntimeError(f"GDPR_EXPORT of request {request_id} was refused by the platform ({outcome.recorded})")
    if outcome.via is Via.RECONCILE:
        log.warning("request %s: found GDPR_EXPORT %s submitted before a crash", request_id, outcome.platform_id)
    if outcome.via in (Via.CALL, Via.RECONCILE):
        runtime.audit.append(f"{event}_{'submitted' if outcome.via is Via.CALL else 'reconciled'}",
                             request_id=request_id, subject=runtime.digest(record),
                             details={"gdpr_request_id": outcome.platform_id})
    return outcome.platform_id
