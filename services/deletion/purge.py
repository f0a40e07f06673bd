"""Retention purge: delete the recordings of every conversation older than the retention period.

``plan_purge`` is the one function both the dry run and the real run use, so they agree on what
goes: an async conversation details job (``segmentFilters``: ``recording`` = true) over
``[as_of - lookback, as_of - DAYS]``, keeping the conversations that *ended* before the cutoff, minus
those under a legal hold (register) or the platform's deletion protection, which are listed as
withheld with their basis. ``start_purge`` turns a plan into a request (no subject: a purge erases
by conversation) that runs under the standing retention policy from the configuration instead of a
per-request approval, and hands it to the deletion pool, which creates recording DELETE jobs of at
most ``recording_job_batch`` conversations, never more than 2 at once, honouring holds again right
before each job. It ends with a certificate like any erasure.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.deletion.holds import withhold
from shared.errors import ErasureError
from shared.genesys import GenesysClient, ServerError
from shared.identifiers import TICKET_PATTERN
from shared.lanes import send_ids
from shared.models import Approval, DateWindow, ErasureRecord, Lane, RequestState, Subject, WithheldRecord, utcnow
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK

JOB_POLL_S = 0.5


class PurgeRefused(ErasureError):
    """The purge cannot run as asked; the message says why and what to do."""


@dataclass
class PurgePlan:
    older_than_days: int
    as_of: datetime
    cutoff: datetime
    interval: str
    conversations: list[str] = field(default_factory=list)  # whose recordings go, sorted
    withheld: list[WithheldRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "older_than_days": self.older_than_days,
            "as_of": self.as_of.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "conversations": self.conversations,
            "withheld": [w.model_dump(mode="json") for w in self.withheld],
        }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def purge_query(start: datetime, cutoff: datetime) -> dict[str, Any]:
    return {
        "interval": f"{_iso(start)}/{_iso(cutoff)}",
        "order": "asc",
        "orderBy": "conversationStart",
        "segmentFilters": [{"type": "and", "predicates": [
            {"type": "dimension", "dimension": "recording", "operator": "matches", "value": "true"}]}],
    }


def old_recorded_conversations(client: GenesysClient, query: dict[str, Any], cutoff: datetime,
                               wait_s: float) -> list[str]:
    """Run the async details job and keep the conversations that ended before ``cutoff``."""
    job_id = client.submit_details_job(query)
    deadline = time.monotonic() + wait_s
    status = client.get_details_job(job_id)
    while not status.is_final:
        if time.monotonic() >= deadline:
            raise PurgeRefused(f"the analytics job {job_id} did not finish in {wait_s:.0f}s; try again later")
        time.sleep(JOB_POLL_S)
        status = client.get_details_job(job_id)
    if status.state != "FULFILLED":
        raise ServerError(f"analytics details job ended {status.state}", status=500)
    found: set[str] = set()
    cursor: str | None = None
    while True:
        page = client.get_details_job_results(job_id, cursor=cursor)
        for conversation in page.conversations:
            end = conversation.conversation_end
            if end and _parse(end) < cutoff:
                found.add(conversation.conversation_id)
        cursor = page.cursor
        if not cursor:
            break
    client.delete_details_job(job_id)
    return sorted(found)


def plan_purge(runtime: Runtime, client: GenesysClient, older_than_days: int,
               as_of: datetime | None = None) -> PurgePlan:
    if older_than_days < 1:
        raise PurgeRefused("older-than: the retention period must be at least 1 day")
    settings = runtime.settings
    as_of = as_of or utcnow()
    cutoff = as_of - timedelta(days=older_than_days)
    start = cutoff - timedelta(days=settings.purge_lookback_days)
    query = purge_query(start, cutoff)
    old = old_recorded_conversations(client, query, cutoff, settings.purge_job_wait_s)
    erasable, withheld = withhold(runtime, client, old)
    return PurgePlan(older_than_days=older_than_days, as_of=as_of, cutoff=cutoff, interval=query["interval"],
                     conversations=sorted(erasable), withheld=sorted(withheld, key=lambda w: w.id or ""))


def start_purge(runtime: Runtime, plan: PurgePlan, ticket: str | None = None) -> ErasureRecord:
    """Record the purge as a request under the standing policy and send it to the deletion pool."""
    policy = runtime.settings.retention_policy.strip()
    if not policy:
        raise PurgeRefused("no standing retention policy is configured: set ERASURE_RETENTION_POLICY (its "
                           "reference and summary) to run purges; --dry-run works without it")
    if ticket is not None and not re.fullmatch(TICKET_PATTERN, ticket):
        raise PurgeRefused(f"ticket: must match {TICKET_PATTERN} (as at every door: it is a URL path segment)")
    ticket = ticket or f"purge-{plan.older_than_days}d-{plan.as_of.strftime('%Y%m%dT%H%M%SZ')}"
    record = ErasureRecord(
        ticket=ticket,
        subject=Subject(),
        verified_at=plan.as_of,
        approval=Approval(by=f"standing retention policy: {policy}"),
        state=RequestState.DELETING,
        conversation_ids=plan.conversations,
        recording_scope=plan.conversations,
        withheld=plan.withheld,
        purge_policy=policy,
        window=DateWindow(start=plan.cutoff - timedelta(days=runtime.settings.purge_lookback_days), end=plan.cutoff),
        subject_digest="retention-purge",
        lane=Lane.BULK,  # a purge is bulk work: it yields to single requests (issue 21)
    )
    runtime.store.create(record)  # DuplicateTicket for the same ticket twice
    runtime.audit.append("purge.started", request_id=record.request_id, subject=record.subject_digest,
                         details={"ticket": ticket, "state": record.state.value, "older_than_days": plan.older_than_days,
                                  "cutoff": plan.cutoff.isoformat(), "conversations": len(plan.conversations),
                                  "withheld": len(plan.withheld), "policy": policy})
    send_ids(DELETE_TASK, [record.request_id], lane=Lane.BULK)  # a retention purge is bulk work (issue 21)
    return record
