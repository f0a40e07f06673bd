"""Review before delete, the deletion pool's part: the subject's GDPR_EXPORT, submitted exactly once.

Nothing is deleted here and no approval is needed: an export for review is read by this system only for
what it holds (``shared.export_review``), never handed to anyone. It is submitted by this pool because
the GDPR requests' exactly-once machinery lives here: the effect ledger under its own effect
(``review_export``), a platform name of its own (``erasure-<request id>-review``), and the index of the
platform's GDPR requests consulted before a first call and after a lost answer (``gdpr_index``), as for
an access request's export (``services.deletion.export``).

The export names what the GDPR_DELETEs would (``gdpr_subjects_for``) but never a name, even where the
operator opted in with ``erase_by_name``: the platform searches by a name, and namesakes' data would come
back and look like what discovery missed. A subject known only by a name has nothing to export by: the
review ends ``name_only`` and the request goes to the gate, flagged.

Then the polling pool follows the export (``services.polling.review``), which takes the request to the gate.
"""

from __future__ import annotations

import logging

from services.deletion.export import submit_export
from services.deletion.gdpr_index import GdprRequests
from services.deletion.tasks import _gdpr_identity, gdpr_effect, gdpr_subjects_for
from shared.approval_gate import to_gate
from shared.genesys.models import GdprSubject
from shared.models import ExportReview, RequestState, utcnow
from shared.pipeline import erasure_task, handing_on, is_redelivery, isolated, load, moved_on
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, REVIEW_EXPORT_TASK, REVIEW_FOLLOW_TASK

log = logging.getLogger("erasure.deletion")

REVIEW_EFFECT = "review_export"


def review_effect(request_id: str, subject: GdprSubject, first: bool) -> tuple[str, str]:
    """The ledger effect and platform name of one of a review's GDPR_EXPORTs: ``gdpr_effect``'s scheme,
    apart from an access request's and from the GDPR_DELETEs that may follow."""
    effect, name = gdpr_effect(request_id, subject, first)
    return REVIEW_EFFECT + effect.removeprefix("gdpr_delete"), name + "-review"


@erasure_task(REVIEW_EXPORT_TASK)
def submit_reviews(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("deletion")
    records = load(runtime, request_ids, RequestState.REVIEWING)
    # Submitted by a delivery killed before its hand-on: the redelivery hands them on (an ordinary re-run
    # finds them handed on already, and a second follower would only poll twice).
    follow = [r.request_id for r in records if r.review is not None] if is_redelivery() else []
    todo = [r for r in records if r.review is None]
    approved = moved_on(runtime, request_ids, RequestState.DELETING)
    listed = GdprRequests(runtime, client)
    listed.prepare([r for r in todo if _gdpr_identity(r)])
    with handing_on(REVIEW_FOLLOW_TASK, follow), handing_on(DELETE_TASK, approved):
        for record in todo:
            with isolated(runtime, record, "review"):
                if not _gdpr_identity(record):
                    review = ExportReview(status="name_only", completed_at=utcnow())
                    if to_gate(runtime, record, "review.not_possible", {"review": review.status},
                               expect=RequestState.REVIEWING, review=review):
                        approved.append(record.request_id)
                    continue
                subjects = [s.model_copy(update={"name": None}) for s in gdpr_subjects_for(record)]
                ids = [submit_export(runtime, client, record, listed, subject,
                                     review_effect(record.request_id, subject, n == 0), event="review.gdpr_export",
                                     adopt_nameless=False)
                       for n, subject in enumerate(subjects)]
                review = ExportReview(gdpr_request_ids=ids, submitted_at=utcnow())
                if runtime.store.update_if(record.request_id, RequestState.REVIEWING,
                                           when=lambda current: current.review is None, review=review):
                    follow.append(record.request_id)
