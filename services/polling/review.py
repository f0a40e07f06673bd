"""Review before delete, the polling pool's part: follow the export, read what it holds, go to the gate.

Each pass GETs the review's GDPR_EXPORTs (``services.deletion.review`` submitted them). When all are
COMPLETED, their archives are downloaded and read for *what* they hold (``shared.export_review``: record
kinds and counts, conversation and contact ids, the dates spanned); the content is discarded there and
then, never stored or logged. The summary is set beside what discovery found:

- conversations the export holds that discovery did not find are *missed*: they join the request's scope
  (so the deletion pool deletes their recordings and verification reads them back, their messages too)
  and are listed, flagged, for the approver;
- external contacts of the export's contact documents that the identity lacks join the identity (the
  GDPR_DELETEs and contact deletions name them), counted for the approver.

Then the request goes to the gate like any other (``shared.approval_gate.to_gate``): its scope grew, so an
approval given before does not cover it. An export that ends in ERROR, outlives ``ERASURE_GDPR_TIMEOUT_S``,
whose link expired or whose archive cannot be read leaves a review without a summary: the request goes to
the gate flagged with why, and a person decides with what discovery found. Review never erases by itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.approval_gate import to_gate
from shared.errors import RunLater
from shared.export_review import ArchiveUnreadable, LinkExpired, download, summarise
from shared.genesys.models import GdprRequest
from shared.lanes import send_ids
from shared.models import ErasureRecord, ExportReview, RecordChanges, RequestState, utcnow
from shared.pipeline import erasure_task, handing_on, isolated, load, moved_on
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, REVIEW_FOLLOW_TASK

log = logging.getLogger("erasure.polling")


@erasure_task(REVIEW_FOLLOW_TASK)
def follow_reviews(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("polling")
    approved = moved_on(runtime, request_ids, RequestState.DELETING)
    waiting: list[ErasureRecord] = []
    with handing_on(DELETE_TASK, approved):
        for record in load(runtime, request_ids, RequestState.REVIEWING):
            if record.review is None:
                continue  # not submitted yet: the deletion pool hands it here when it is
            with isolated(runtime, record, "review"):
                answers = [client.get_gdpr_request(gid) for gid in record.review.gdpr_request_ids]
                outcome = _outcome(runtime, record, record.review, answers)
                if outcome is None:
                    waiting.append(record)
                    continue
                review, found = outcome
                changes = _fed_back(record, review, found)
                details = {"review": review.status, "missed_conversations": len(review.missed_conversation_ids),
                           "missed_external_contacts": review.missed_external_contacts,
                           "export_records": sum(review.summary.records.values()) if review.summary else 0}
                changes["review"] = review
                if to_gate(runtime, record, "review.completed", details, expect=RequestState.REVIEWING, **changes):
                    approved.append(record.request_id)
    if waiting:
        _later(runtime, request_ids, waiting)


def _later(runtime: Runtime, request_ids: list[str], waiting: list[ErasureRecord]) -> None:
    """Look again: the whole batch waits (a retry later), or only some (they go on in a batch of their own).
    The interval grows with the time the exports have taken, within the polling settings."""
    settings = runtime.settings
    waited = min((utcnow() - (r.review.submitted_at if r.review and r.review.submitted_at else r.updated_at))
                 .total_seconds() for r in waiting)
    interval = min(settings.poll_max_interval_s, max(settings.poll_interval_s, waited / 10))
    if len(waiting) == len(request_ids):
        raise RunLater(interval, "the platform is still working on the review exports")
    send_ids(REVIEW_FOLLOW_TASK, [r.request_id for r in waiting], countdown=interval)


@dataclass(frozen=True)
class _Found:
    """What the review feeds back beyond what the approver reads: platform ids, held only until written."""

    new_contacts: tuple[str, ...] = ()
    missed_messages: dict[str, list[str]] = field(default_factory=dict)  # missed conversation -> message ids


def _outcome(runtime: Runtime, record: ErasureRecord, review: ExportReview,
             answers: list[GdprRequest]) -> tuple[ExportReview, _Found] | None:
    """The finished review and what it found, or None while the platform is still working on it."""
    now = utcnow()

    def ended(status: str) -> tuple[ExportReview, _Found]:
        return review.model_copy(update={"status": status, "completed_at": now}), _Found()

    if any(a.status == "ERROR" for a in answers):
        return ended("platform_error")
    if not all(a.status == "COMPLETED" for a in answers):
        waited = (now - (review.submitted_at or record.updated_at)).total_seconds()
        return ended("timeout") if waited > runtime.settings.gdpr_timeout_s else None
    urls = list(dict.fromkeys(u for a in answers for u in (a.results_urls or ([a.results_url] if a.results_url else []))))
    if not urls:
        return ended("unreadable")
    settings = runtime.settings
    base = urlsplit(settings.api_base_url)
    own_http_host = base.hostname if base.scheme == "http" else None
    # One archive downloaded, read and let go at a time (a generator); a download that fails in transit is a
    # hiccup (retried), one the bounds refuse makes the review unreadable.
    archives = (download(url, allowed_http_host=own_http_host, max_bytes=settings.review_export_max_bytes)
                for url in urls)
    try:
        findings = summarise(archives, max_bytes=settings.review_export_max_bytes)
    except LinkExpired:
        return ended("link_expired")
    except ArchiveUnreadable as exc:  # its message names the bound broken, never the content
        log.warning("request %s: review export unreadable: %s", record.request_id, exc)
        return ended("unreadable")
    known = _known_conversations(record)
    identity = record.effective_identity
    missed = sorted(findings.conversation_ids - known)
    new_contacts = findings.external_contact_ids - set(identity.external_contact_ids)
    summarised = review.model_copy(update={
        "status": "summarised", "completed_at": now, "summary": findings.summary,
        "discovered_conversations": len(known), "missed_conversation_ids": missed,
        "missed_external_contacts": len(new_contacts)})
    return summarised, _Found(tuple(sorted(new_contacts)),
                              {c: sorted(findings.message_ids.get(c, ())) for c in missed})


def _known_conversations(record: ErasureRecord) -> set[str]:
    return {*record.conversation_ids, *record.sensitive_conversation_ids, *record.message_conversation_ids,
            *record.active_conversation_ids}


def _fed_back(record: ErasureRecord, review: ExportReview, found: _Found) -> RecordChanges:
    """What the review adds to the request: missed conversations to its scope (with the ids of their messages,
    for verification's read-back), missed contacts to its identity."""
    changes: RecordChanges = {}
    missed = review.missed_conversation_ids
    if missed:
        changes["conversation_ids"] = list(dict.fromkeys([*record.conversation_ids, *missed]))
        messages = {c: ids for c, ids in found.missed_messages.items() if ids}
        if messages:
            changes["message_ids"] = {**record.message_ids, **messages}
    if found.new_contacts:
        identity = record.effective_identity
        changes["identity"] = identity.model_copy(update={
            "external_contact_ids": list(dict.fromkeys([*identity.external_contact_ids, *found.new_contacts]))})
    return changes
