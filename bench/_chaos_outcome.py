"""What a chaos run left behind: stuck and lost requests, GDPR_DELETEs per subject (and beyond need), remnants.

Definitions (the results file's fields):

- ``stuck``: submitted requests not in a final state when the run ended (every request final, or the
  cap); a request whose record is gone from the store counts, with state ``absent``.
- ``lost``: the stuck requests with no way forward, i.e. nothing in the system would ever move them
  again without an operator (``erasure resume``) or a watchdog: the record is absent, or no message
  names the request in any pool's queue or in the broker's unacknowledged set (which Redis redelivers
  after the visibility timeout), and it is not followed by a polling loop (an entry in the GDPR polling
  hash or the recording-job hash *and* that loop's next pass queued or unacknowledged). A lock or a
  polling entry without a pass is no way forward. AWAITING_APPROVAL and HELD wait for a person; the
  bench runs with approval off and no holds, so a request in them is stuck and lost like any other.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import redis

from shared.config import POOLS
from shared.models import RequestState
from shared.recording_jobs import pending_key as recording_jobs_pending
from shared.runtime import Runtime
from shared.task_names import FOLLOW_TASK, SWEEP_TASK

ABSENT = "absent"


@dataclass(frozen=True)
class BrokerView:
    """What the broker holds: request ids named by a queued or unacknowledged message, and the tasks named."""

    request_ids: frozenset[str]
    tasks: Counter[str]


def _message_ids(message: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The task name of a kombu message and the request ids in its first argument."""
    task = str(message.get("headers", {}).get("task", ""))
    body = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body).decode()
    try:
        args = json.loads(body)[0] if body else []
    except (ValueError, IndexError, KeyError):
        return task, []
    first = args[0] if args else []
    ids = [first] if isinstance(first, str) else [str(i) for i in first] if isinstance(first, list) else []
    return task, ids


def broker_view(client: redis.Redis, key_prefix: str) -> BrokerView:
    """Every message in the pools' queues (kombu's Redis lists, priority lists included) and in ``unacked``."""
    celery = f"{key_prefix}:celery:"
    messages: list[Mapping[str, Any]] = []
    for pool in POOLS:
        for key in client.scan_iter(match=f"{celery}{pool}*", count=1000):
            if client.type(key) in ("list", b"list"):
                messages += [json.loads(raw) for raw in client.lrange(key, 0, -1)]
    messages += [json.loads(raw)[0] for raw in client.hvals(f"{celery}unacked")]
    ids: set[str] = set()
    tasks: Counter[str] = Counter()
    for message in messages:
        task, named = _message_ids(message)
        tasks[task] += 1
        ids.update(named)
    return BrokerView(frozenset(ids), tasks)


def followed(runtime: Runtime, broker: BrokerView) -> set[str]:
    """Requests a polling loop follows: in its hash, with its next pass on its way."""
    out: set[str] = set()
    if broker.tasks[SWEEP_TASK]:
        out.update(str(v) for v in runtime.redis.hvals(runtime.keys.pending_gdpr))
    if broker.tasks[FOLLOW_TASK]:
        out.update(str(v) for v in runtime.redis.hvals(recording_jobs_pending(runtime)))
    return out


def stuck_and_lost(states: Mapping[str, str], runtime: Runtime) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(stuck, lost), each a list of {request_id, state}; see the module docstring."""
    final = {s.value for s in RequestState if s.is_final}
    stuck = [{"request_id": rid, "state": state} for rid, state in states.items() if state not in final]
    if not stuck:
        return [], []
    broker = broker_view(runtime.redis, runtime.keys.prefix)
    moving = broker.request_ids | followed(runtime, broker)
    lost = [row for row in stuck if row["state"] == ABSENT or row["request_id"] not in moving]
    return stuck, lost


def gdpr_deletes_per_subject(stats: Mapping[str, Any], subjects: Iterable[str]) -> Counter[str]:
    """GDPR_DELETE requests the simulator received per ground-truth subject (its own counters), for ``subjects``."""
    wanted = set(subjects)
    out: Counter[str] = Counter()
    for row in stats["gdpr_requests"]:
        if row["requestType"] == "GDPR_DELETE" and row["subject"] in wanted:
            out[row["subject"]] += int(row["count"])
    return out


def gdpr_deletes_needed(person: Mapping[str, Any]) -> int:
    """GDPR_DELETEs one erasure of this ground-truth person needs: one per external contact (a GDPRSubject
    names one contact id and one journey cookie), at least one."""
    return max(1, len(person.get("external_contact_ids") or []))


def surplus_gdpr_deletes(deletes: Mapping[str, int], needed: Mapping[str, int]) -> dict[str, int]:
    """Subject -> GDPR_DELETEs beyond what its erasure needs (a duplicate submission), only where any."""
    return {s: n - needed.get(s, 1) for s, n in sorted(deletes.items()) if n > needed.get(s, 1)}


def remnants(sim_url: str, values_by_subject: Mapping[str, list[str]], chunk: int = 200) -> dict[str, int]:
    """Subject -> places the simulator still finds one of its identifiers (only subjects with any)."""
    owner = {value: subject for subject, values in values_by_subject.items() for value in values}
    values = list(owner)
    found: Counter[str] = Counter()
    for start in range(0, len(values), chunk):
        response = httpx.post(f"{sim_url}/_sim/find", json={"values": values[start:start + chunk]}, timeout=300)
        response.raise_for_status()
        for match in response.json()["matches"]:
            found[owner.get(match["value"], "?")] += 1
    return dict(found)
