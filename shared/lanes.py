"""Where a stage's message goes in its queue: every stage send of the pipeline goes through here (issue 21).

Each pool's queue has two lanes, emulated by kombu's Redis transport as two lists: priority 0 (the queue's
own list, ``<queue>``) for interactive work and priority 9 (``<queue>\\x06\\x169``) for bulk work. A worker's
BRPOP names every queue's priority-0 list before any priority-9 list, so one worker command
(``celery -A shared.celery_app worker -Q discovery``) consumes both lanes, interactive first. (kombu also
keeps lists for priorities 3 and 6: only another producer's messages land there, read between the lanes,
as interactive work.) A message
keeps its priority when kombu restores it (an unacknowledged message past the visibility timeout, a
``Reject(requeue=True)``) and when Celery retries it (``Task.retry`` copies the delivery's priority).

A batch is homogeneous: ids are grouped by lane whenever they are sent. Inside a task the lane is the
message's (``shared.lane_context``); a re-drive that gathers ids from many requests reads each record's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.celery_app import PRIORITY_STEPS, app
from shared.lane_context import current_lane
from shared.models import Lane
from shared.store import UnknownRequest

if TYPE_CHECKING:
    from shared.runtime import Runtime

#: kombu's priority of each lane on Redis (0 is served first): the first and the last of the priority steps
#: the transport keeps lists for (``broker_transport_options``). The steps between (3 and 6) hold only
#: messages another producer sent with priority 3 to 8: workers read them after interactive work and before
#: bulk work, and read them back as interactive (``lane_of_priority``).
PRIORITY: Mapping[Lane, int] = {Lane.INTERACTIVE: PRIORITY_STEPS[0], Lane.BULK: PRIORITY_STEPS[-1]}
#: kombu's separator between a queue's name and its priority (``Channel.sep``, the transport's default).
KOMBU_SEP = "\x06\x16"


def queue_key(celery_prefix: str, pool: str, lane: Lane) -> str:
    """The Redis list that holds ``pool``'s waiting messages of ``lane`` (kombu's ``_q_for_pri``)."""
    priority = PRIORITY[lane]
    return f"{celery_prefix}{pool}{KOMBU_SEP}{priority}" if priority else f"{celery_prefix}{pool}"


def lane_of_priority(priority: object) -> Lane:
    """The lane a delivered message travels in: bulk from bulk's priority up; anything else is interactive:
    none or garbled (a message from before the lanes), and 1 to 8 (another producer's, say an upstream app
    through the Celery door): only bulk work is held back behind the rest."""
    try:
        return Lane.BULK if int(priority) >= PRIORITY[Lane.BULK] else Lane.INTERACTIVE  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return Lane.INTERACTIVE


def send(task_name: str, args: Sequence[Any] | None = None, *, lane: Lane | None = None,
         countdown: float | None = None, kwargs: Mapping[str, Any] | None = None) -> None:
    """Send one stage message in ``lane`` (default: the lane of the batch running here)."""
    chosen = current_lane() if lane is None else lane
    options: dict[str, Any] = {}
    if kwargs is not None:
        options["kwargs"] = dict(kwargs)
    if countdown is not None:
        options["countdown"] = countdown
    if PRIORITY[chosen]:
        # Interactive messages carry no priority, as every message did before the lanes: kombu files them
        # in the queue's own list (priority 0), and a message without one is read back as interactive.
        options["priority"] = PRIORITY[chosen]
    app.send_task(task_name, args=list(args) if args is not None else None, **options)


def send_ids(task_name: str, request_ids: Iterable[str], *, lane: Lane | None = None,
             countdown: float | None = None) -> None:
    """Send one batch of request ids in ``lane`` (default: the running batch's)."""
    send(task_name, [list(request_ids)], lane=lane, countdown=countdown)


def by_lane(runtime: Runtime, request_ids: Iterable[str]) -> dict[Lane, list[str]]:
    """The ids grouped by their record's lane, in their order; an unknown id goes with interactive
    (its task skips it anyway)."""
    groups: dict[Lane, list[str]] = {}
    for request_id in request_ids:
        try:
            lane = runtime.store.get(request_id).lane
        except UnknownRequest:
            lane = Lane.INTERACTIVE
        groups.setdefault(lane, []).append(request_id)
    return groups


def send_by_record(runtime: Runtime, task_name: str, request_ids: Iterable[str], *,
                   countdown: float | None = None, batch_size: int | None = None) -> None:
    """Send ids gathered from many requests (a resume, a watchdog re-drive): one batch per lane (or several
    of at most ``batch_size``), each in its records' lane, so a re-driven bulk request stays bulk."""
    for lane, ids in by_lane(runtime, request_ids).items():
        size = batch_size or len(ids)
        for start in range(0, len(ids), size):
            send_ids(task_name, ids[start:start + size], lane=lane, countdown=countdown)
