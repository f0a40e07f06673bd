"""One root for the project's exceptions, and one "run later" signal that carries its countdown."""

from __future__ import annotations

import pytest

from services.deletion.purge import PurgeRefused
from services.intake.approve import ApprovalError
from services.intake.validation import IntakeError
from shared.effects import ReconcileIncomplete
from shared.errors import ErasureError, RunLater
from shared.genesys import Conflict, GenesysError, RateLimited, ServerError
from shared.identifiers import InvalidIdentifier
from shared.ratelimit import LimiterUnavailable, RateLimitError, RateLimitWait
from shared.store import DuplicateTicket, UnknownRequest


@pytest.mark.parametrize("exc", [
    IntakeError(["subject: give at least one identifier"]), ApprovalError("by: say who approves"),
    PurgeRefused("no policy"), ReconcileIncomplete("searched 2 pages"), GenesysError("x"), Conflict("x", status=409),
    RateLimitError("x"), LimiterUnavailable("x"), DuplicateTicket("T-1", "r1"), UnknownRequest("r1"),
    InvalidIdentifier("email: not an address"),
])
def test_the_projects_exceptions_share_one_root(exc):
    assert isinstance(exc, ErasureError)


def test_what_callers_caught_before_still_catches():
    assert isinstance(IntakeError(["x"]), ValueError) and isinstance(ApprovalError("x"), ValueError)
    assert isinstance(InvalidIdentifier("x"), ValueError) and isinstance(UnknownRequest("r1"), KeyError)
    assert str(UnknownRequest("r1")) == "'r1'"


def test_run_later_says_how_long_and_why():
    later = RunLater(2.5, "both recording-job slots are taken", request_id="r1")
    assert (later.defer_s, later.reason, later.request_id) == (2.5, "both recording-job slots are taken", "r1")
    assert str(later) == "both recording-job slots are taken; again in 2.5s"
    assert RunLater(1.0).request_id is None and str(RunLater(1.0)) == "not yet; again in 1.0s"


def test_the_rate_budget_and_a_429_are_the_same_later_signal():
    wait = RateLimitWait(7.5)
    assert isinstance(wait, RunLater) and isinstance(wait, RateLimitError) and wait.defer_s == wait.wait_s == 7.5
    assert str(wait) == "rate budget exhausted, next token in 7.500 s" and wait.request_id is None

    limited = RateLimited("POST /api/v2/x -> 429", retry_after_s=3.0, code="too.many", correlation_id="c-1")
    assert isinstance(limited, RunLater) and isinstance(limited, GenesysError)
    assert limited.defer_s == limited.retry_after_s == 3.0 and limited.request_id is None
    assert (limited.status, limited.code, limited.correlation_id) == (429, "too.many", "c-1")
    assert str(limited) == "POST /api/v2/x -> 429"
    assert not isinstance(ServerError("x", status=503), RunLater)  # an error to retry, not a wait
