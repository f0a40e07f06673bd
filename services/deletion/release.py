"""Erasing what a legal hold kept, once the hold is removed or has expired (``erasure release-held``).

Run it by hand after ``erasure hold remove`` or on a schedule (cron, a Kubernetes CronJob): it looks at

- requests in HELD (a hold on the subject kept the whole erasure back): when no hold on the subject
  is active any more, the request goes back to DELETING and is erased in full;
- requests COMPLETED_WITH_WITHHELD whose withheld conversations are free now (their register hold
  is gone or expired, or the platform no longer protects them): the request is reopened for one more
  *round* that deletes only those recordings (new effects ``recording_job:<round>:<n>``), is verified
  again and gets an updated certificate. Conversations still held stay withheld.

The holds are read again by the deletion pool right before each job, so a hold added meanwhile still wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.deletion.holds import subject_withheld
from shared.genesys import GenesysClient
from shared.holds import PLATFORM_PROTECTION
from shared.lanes import send_ids
from shared.models import RequestState
from shared.pipeline import transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK


@dataclass
class Released:
    ticket: str
    request_id: str
    kind: str  # "subject" | "conversations"
    conversations: list[str] = field(default_factory=list)


def release_held(runtime: Runtime, client: GenesysClient, *, dry_run: bool = False) -> list[Released]:
    active = {h.id for h in runtime.holds().active()}
    out: list[Released] = []
    for record in runtime.store.iter_records():
        if record.state is RequestState.HELD:
            if subject_withheld(runtime, record):
                continue
            out.append(Released(record.ticket, record.request_id, "subject"))
            if dry_run:
                continue
            moved = transition(runtime, record.request_id, RequestState.DELETING, "hold.released",
                               details={"kind": "subject"}, expect=RequestState.HELD,
                               withheld=[w for w in record.withheld if w.kind != "subject"], reason=None)
            if moved is not None:
                send_ids(DELETE_TASK, [record.request_id], lane=record.lane)
            continue
        if record.state is not RequestState.COMPLETED_WITH_WITHHELD:
            continue
        held = [w for w in record.withheld if w.kind == "conversation" and w.id]
        candidates = [w for w in held if w.hold == PLATFORM_PROTECTION or w.hold not in active]
        if not candidates:
            continue
        protected = client.protected_conversations([w.id for w in candidates if w.id])
        free = [w for w in candidates if w.id not in protected]
        if not free:
            continue
        free_ids = [w.id for w in free if w.id]
        out.append(Released(record.ticket, record.request_id, "conversations", free_ids))
        if dry_run:
            continue
        moved = transition(runtime, record.request_id, RequestState.DELETING, "hold.released",
                           details={"kind": "conversations", "conversations": free_ids,
                                    "holds": sorted({w.hold for w in free})},
                           expect=RequestState.COMPLETED_WITH_WITHHELD,
                           withheld=[w for w in record.withheld if w not in free], recording_scope=free_ids,
                           recording_round=record.recording_round + 1, reason=None)
        if moved is not None:
            send_ids(DELETE_TASK, [record.request_id], lane=record.lane)
    return out
