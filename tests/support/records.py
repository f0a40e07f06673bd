"""Test setup that puts a stored request in a given state without walking the state table.

For a state the product reaches by a path the test skips (a request already past discovery), or by a
crash (a request still in DELETING because its worker died before the move on). Product code never
writes state this way: the store refuses any move the table does not allow.
"""

from __future__ import annotations

from shared import summaries
from shared.models import RequestState
from shared.runtime import Runtime


def put_state(runtime: Runtime, request_id: str, state: RequestState) -> None:
    """The record and its list row (``shared.summaries``), as the store writes them, in the new state."""
    record = runtime.store.get(request_id).model_copy(update={"state": state})
    with runtime.redis.pipeline() as pipe:
        pipe.set(runtime.keys.request(request_id), record.model_dump_json())
        summaries.stage(pipe, runtime.keys, record)
        pipe.execute()
