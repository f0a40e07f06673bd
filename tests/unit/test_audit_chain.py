"""The audit chain detects edits, removals and reordering, and names the first bad entry."""

import json

import fakeredis

from shared.audit import AuditLog, verify_chain
from shared.keys import Keys


def make_log():
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    for n in range(5):
        log.append("step", request_id=f"r{n}", subject="hmac-sha256:abc", details={"n": n})
    return log


def test_intact_chain_verifies():
    log = make_log()
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert verify_chain(entries) is None
    assert log.head() == entries[-1]["hash"]


def test_edit_is_named():
    entries = make_log().entries()
    entries[2]["details"]["n"] = 99
    problem = verify_chain(entries)
    assert problem is not None and problem.seq == 3 and "edited" in problem.reason


def test_one_byte_edit_of_serialised_line():
    lines = [json.dumps(e, sort_keys=True) for e in make_log().entries()]
    lines[1] = lines[1].replace('"step"', '"stap"')
    problem = verify_chain(json.loads(line) for line in lines)
    assert problem is not None and problem.seq == 2


def test_removal_and_reorder_are_named():
    entries = make_log().entries()
    problem = verify_chain(entries[:1] + entries[2:])
    assert problem is not None and "seq" in problem.reason
    swapped = entries[:]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert verify_chain(swapped) is not None
