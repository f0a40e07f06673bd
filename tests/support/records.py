"""Test setup that puts a stored request in a given state without walking the state table.

For a state the product reaches by a path the test skips (a request already past discovery), or by a
crash (a request still in DELETING because its worker died before the move on). Product code never
writes state this way: the store refuses any move the table does not allow.
"""

from __future__ import annotations

from shared.models import RequestState
from shared.runtime import Runtime


def put_state(runtime: Runtime, request_id: str, state: RequestState) -> None:
    record = runtime.store.get(request_id).model_copy(update={"state": state})
    runtime.redis.set(runtime.keys.request(request_id), record.model_dump_json())
