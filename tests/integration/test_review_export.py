"""Review before delete (issue 17) with real workers, Redis and the simulator over HTTP.

A subject's friend passed the subject's email on in the friend's own chat: the subject is no participant
there, so discovery (analytics by participant) cannot find it, while the platform's GDPR export, which
reads message text, holds it. With review before delete the approval step shows the export's summary
beside discovery's findings, flags the conversation discovery missed and puts it in scope; once approved,
the erasure reaches it and verification reads it back. Nothing of the export's content is kept.
"""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.certificate_html import render_certificate_html
from shared.models import RequestState
from tests.integration.test_access_export import files_text, gdpr_requests, redis_dump
from tests.support.intake_api import create_key, running_api
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final, wait_until

#: The friend's message as the simulator seeds it (``seed._add_mention_elsewhere``): export content.
FRIENDS_WORDS = "update my friend's details"


@pytest.fixture()
def review_stack(tmp_path, redis_available):
    config = SimConfig(subjects=3, seed=5, gdpr_step_s=0.2, rate_limit=6000, mentioned_elsewhere=1)
    with running_stack(tmp_path, redis_available, config, ERASURE_OUTPUT_DIR=str(tmp_path / "out")) as stack:
        yield stack


def test_the_export_shows_at_the_gate_and_what_discovery_missed_is_flagged_and_erased(review_stack):
    stack = review_stack
    subject = next(s for s in httpx.get(f"{stack.sim_url}/_sim/subjects").json() if s["mentioned_conversation_ids"])
    [mentioned] = subject["mentioned_conversation_ids"]
    assert any(m.get("conversation_id") == mentioned for m in sim_find(stack, subject["emails"][:1]))

    # Pre-approved at an operator-side door: a standing approval of the subject as discovered, which a flagged
    # review must not wave through (the approver never saw what discovery missed).
    [request_id] = submit(stack, [{"ticket": "REV-1", "emails": subject["emails"][:1], "review_export": True,
                                   "approved_by": "upstream-dpo"}])
    store = stack.runtime.store
    def at_the_gate() -> bool:  # moved there, then its standing approval superseded: two writes, wait for both
        current = store.get(request_id)
        return current.state is RequestState.AWAITING_APPROVAL and current.approval is None

    wait_until(at_the_gate, timeout_s=90, message="the request at the approval gate, its earlier approval superseded")
    record = store.get(request_id)
    review = record.review
    assert review is not None and review.status == "summarised"
    assert review.missed_conversation_ids == [mentioned] and review.flagged
    assert review.discovered_conversations >= 1
    assert review.summary.records.get("messages", 0) >= 1 and review.summary.first_date is not None
    assert mentioned in record.conversation_ids and record.message_ids.get(mentioned)  # fed into the scope
    assert record.approval is None and [a.by for a in record.superseded_approvals] == ["upstream-dpo"]
    assert "review before delete was flagged" in record.reason
    [export] = [g for g in gdpr_requests(stack) if g["requestType"] == "GDPR_EXPORT"]
    assert export["name"] == f"erasure-{request_id}-review" and review.gdpr_request_ids == [export["id"]]

    # The approver sees it: the CLI without approving, then the API with a second key.
    shown = stack.cli("approve", "REV-1", "--show")
    assert shown.returncode == 0, shown.stderr
    assert "[FLAGGED] 1 conversations discovery missed" in shown.stdout and mentioned in shown.stdout
    assert store.get(request_id).state is RequestState.AWAITING_APPROVAL  # --show approves nothing
    _, headers = create_key(stack, "dpo", "requests:read")
    with running_api(stack.env, stack.tmp / "logs") as api_url:
        view = httpx.get(f"{api_url}/requests/REV-1", headers=headers, timeout=10).json()
    assert view["review"]["flagged"] is True and view["review"]["missed_conversation_ids"] == [mentioned]
    assert view["review"]["export"]["conversations"] >= 2 and view["scope"]["conversations"] == len(
        set(record.conversation_ids) | set(record.sensitive_conversation_ids))

    approved = stack.cli("approve", "REV-1", "--by", "dpo")
    assert approved.returncode == 0, approved.stderr
    assert "review before delete: the platform's export holds" in approved.stdout
    states = wait_final(stack, [request_id], timeout_s=120)
    assert states[request_id] in (RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD)
    final = store.get(request_id)
    assert final.verification is not None and final.verification.ok
    assert final.verification.checked_conversations >= len(set(record.conversation_ids)) - len(final.withheld)
    # Erased, the conversation discovery missed included: the subject's email is nowhere on the platform.
    assert not sim_find(stack, subject["emails"][:1])
    # The certificate says the request was reviewed, and what the export added to it.
    certificate = wait_certificate(stack, request_id)
    assert certificate["review"]["missed_conversation_ids"] == [mentioned] and certificate["review"]["flagged"]
    assert 'id="review"' in render_certificate_html(certificate) and mentioned in render_certificate_html(certificate)
    # One export for the review, then the erasure: nothing submitted twice.
    kinds = sorted(g["requestType"] for g in gdpr_requests(stack))
    assert kinds.count("GDPR_EXPORT") == 1 and kinds.count("GDPR_DELETE") >= 1

    # The export's content was read and dropped: not in Redis, the logs or the output files.
    assert not any(FRIENDS_WORDS in value for value in redis_dump(stack).values())
    assert FRIENDS_WORDS not in files_text(stack.tmp)
