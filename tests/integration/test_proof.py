"""Issue 7 proofs: a platform ERROR ends PARTIAL with no second request; the audit log names the
first tampered entry; status shows overdue requests first."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState, utcnow
from tests.support.stack import running_stack, submit, wait_certificate, wait_final


@pytest.fixture()
def proof_stack(tmp_path, redis_available):
    with running_stack(tmp_path, redis_available, SimConfig(subjects=3, seed=9, gdpr_step_s=0.1, rate_limit=6000)) as stack:
        yield stack


def gdpr_deletes(stack) -> int:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    return sum(r["count"] for r in stats["gdpr_requests"] if r["requestType"] == "GDPR_DELETE")


def test_platform_error_gives_partial_and_no_second_request(proof_stack):
    httpx.post(f"{proof_stack.sim_url}/_sim/faults", json={"gdpr_error": True, "count": 1}).raise_for_status()
    subject = httpx.get(f"{proof_stack.sim_url}/_sim/subjects").json()[0]
    [request_id] = submit(proof_stack, [{"ticket": "ERR-1", "emails": subject["emails"][:1], "approved_by": "it"}])
    states = wait_final(proof_stack, [request_id])
    assert states[request_id] is RequestState.PARTIAL
    record = proof_stack.runtime.store.get(request_id)
    assert "ended in ERROR" in record.reason and "support case" in record.reason
    assert len(record.gdpr_request_ids) == 1
    assert gdpr_deletes(proof_stack) == 1
    certificate = wait_certificate(proof_stack, request_id)
    assert certificate["outcome"] == "partial" and certificate["complete"] is False
    assert certificate["reason"] == record.reason


def test_one_byte_edit_of_audit_log_is_named(proof_stack):
    subject = httpx.get(f"{proof_stack.sim_url}/_sim/subjects").json()[1]
    [request_id] = submit(proof_stack, [{"ticket": "AUD-1", "emails": subject["emails"][:1], "approved_by": "it"}])
    wait_final(proof_stack, [request_id])
    ok = proof_stack.cli("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "audit chain intact" in ok.stdout

    redis = proof_stack.runtime.redis
    key = proof_stack.runtime.keys.audit_log
    raw = redis.lindex(key, 3)
    entry = json.loads(raw)
    position = raw.index('"event": "') + len('"event": "')
    tampered = raw[:position] + chr(ord(raw[position]) ^ 1) + raw[position + 1:]  # one byte changed
    assert len(tampered) == len(raw) and tampered != raw
    redis.lset(key, 3, tampered)
    broken = proof_stack.cli("audit", "verify")
    assert broken.returncode == 1
    assert f"entry {entry['seq']} was edited" in broken.stderr

    exported = proof_stack.tmp / "audit.jsonl"
    redis.lset(key, 3, raw)
    lines = redis.lrange(key, 0, -1)
    del lines[5]
    exported.write_text("\n".join(lines) + "\n")
    removed = proof_stack.cli("audit", "verify", "--file", str(exported))
    assert removed.returncode == 1 and "entry 6" in removed.stderr


def test_status_lists_overdue_first(proof_stack):
    old = (utcnow() - timedelta(days=40)).isoformat()
    recent = (utcnow() - timedelta(days=2)).isoformat()
    submit(proof_stack, [
        {"ticket": "ST-RECENT", "emails": ["recent.person@example.net"], "verified_at": recent},
        {"ticket": "ST-OVERDUE", "emails": ["old.person@example.net"], "verified_at": old},
    ])
    result = proof_stack.cli("status")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.index("ST-OVERDUE") < text.index("ST-RECENT")
    assert "overdue" in text
    assert "recent.person" not in text and "old.person" not in text

    summary = proof_stack.cli("status", "--summary")
    assert summary.returncode == 0, summary.stderr
    assert "ST-OVERDUE" not in summary.stdout  # counts, not a row per request
    counted = {state.value: 0 for state in RequestState}
    for line in summary.stdout.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if len(cells) == 2 and cells[0] in counted:
            counted[cells[0]] = int(cells[1])
    assert sum(counted.values()) == len(proof_stack.runtime.store.ids()) == 2
    assert "1 overdue" in summary.stdout
