"""Twenty subjects erased end to end by four worker processes on the real Redis and the
simulator over HTTP; the simulator's own view proves it."""

from __future__ import annotations

import json

import httpx

from shared.models import RequestState
from tests.support.stack import wait_certificate, wait_until


def test_twenty_subjects_erased_by_four_pools(stack):
    subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
    assert len(subjects) >= 20
    lines = [json.dumps({"ticket": f"IT-{n}", "emails": s["emails"][:1], "phones": s["phones"][:1],
                         "approved_by": "it-dpo", "erase_by_name": True}) for n, s in enumerate(subjects)]
    bulk = stack.tmp / "subjects.jsonl"
    bulk.write_text("\n".join(lines) + "\n")
    result = stack.cli("submit", "--file", str(bulk))
    assert result.returncode == 0, result.stderr
    assert f"accepted {len(subjects)}, refused 0" in result.stdout

    store = stack.runtime.store
    ids = store.ids()
    assert len(ids) == len(subjects)

    def all_final():
        states = store.states(ids)
        return all(s.is_final for s in states.values()) and states

    states = wait_until(all_final, timeout_s=120, message="every request to reach a final state")
    assert set(states.values()) == {RequestState.COMPLETED}, states

    # The simulator no longer holds any identifier of any subject (all of them, not just those submitted).
    for subject in subjects:
        values = subject["emails"] + subject["phones"] + [subject["name"]]
        matches = httpx.post(f"{stack.sim_url}/_sim/find", json={"values": values}).json()["matches"]
        assert matches == [], (subject["id"], matches)

    # Exactly one GDPR_DELETE per subject.
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    deletes = [row for row in stats["gdpr_requests"] if row["requestType"] == "GDPR_DELETE"]
    per_subject = {row["subject"]: row["count"] for row in deletes}
    assert per_subject == {s["id"]: 1 for s in subjects}

    # Against the strict organisation (an unknown body property is a 400), with the token from the login
    # host of its own port: nothing the client sent was refused, and no token was asked of the API port.
    assert httpx.get(f"{stack.sim_url}/_sim/config").json()["strict_properties"] is True
    refused = [row for row in stats["requests"] if row["status"] == 400]
    assert refused == [], refused
    tokens = {row["status"]: row["count"] for row in stats["requests"] if row["path"] == "/oauth/token"}
    assert set(tokens) == {200}, tokens

    # Every request has a certificate, and the audit chain holds.
    for request_id in ids:
        certificate = wait_certificate(stack, request_id)
        assert certificate["complete"] is True and certificate["verification"]["ok"] is True
        assert certificate["deadline_met"] is True
    assert stack.runtime.audit.verify().problem is None  # keyed chain, ending at the stored head
