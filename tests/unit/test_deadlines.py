"""The 30-day clock (Art. 12(3) GDPR): when a request is due, which open requests are overdue or at
risk, and the verdict a final request gets (``describe``, the certificate's ``deadline_met``).

Every verdict is taken on a clock the test chooses: ``now`` is passed in, timestamps are built by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.certificate import build_certificate
from shared.deadlines import DeadlineView, days_left, deadline_view, describe
from shared.models import FINAL_STATES, ErasureRecord, RequestState, Subject

VERIFIED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DUE = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)  # 30 days after VERIFIED, written out
OPEN_STATES = [s for s in RequestState if s not in FINAL_STATES]


def record(state: RequestState = RequestState.DISCOVERING, *, verified_at: datetime = VERIFIED,
           completed_at: datetime | None = None, ticket: str = "DL-1") -> ErasureRecord:
    return ErasureRecord(ticket=ticket, subject=Subject(emails=["jane@example.org"]), verified_at=verified_at,
                         received_at=verified_at + timedelta(days=2), state=state, completed_at=completed_at)


def due_in(delta: timedelta, now: datetime, state: RequestState = RequestState.DISCOVERING) -> ErasureRecord:
    """An open request whose deadline is ``delta`` from ``now``."""
    return record(state, verified_at=now + delta - timedelta(days=30), ticket=f"DL-{delta}")


# --- When a request is due ------------------------------------------------------------------------------

def test_the_deadline_is_thirty_days_after_verification():
    assert record().deadline == DUE
    assert record().deadline - VERIFIED == timedelta(days=30)


def test_the_clock_starts_at_verification_not_at_receipt():
    late_receipt = record()  # received two days after the identity was verified
    assert late_receipt.received_at == VERIFIED + timedelta(days=2)
    assert late_receipt.deadline == DUE


def test_the_deadline_crosses_a_month_end_by_days_not_by_calendar_month():
    february = record(verified_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert february.deadline == datetime(2026, 3, 3, tzinfo=UTC)  # 28-day February: 30 days, not "1 March"


# --- days_left and describe on an open request ---------------------------------------------------------

@pytest.mark.parametrize(("now", "left"), [
    (DUE - timedelta(days=1, hours=12), 1.5),
    (DUE, 0.0),
    (DUE + timedelta(days=2, hours=6), -2.25),
    (VERIFIED, 30.0),
])
def test_days_left_counts_fractional_days_to_the_deadline(now, left):
    assert days_left(record(), now) == pytest.approx(left)


@pytest.mark.parametrize(("now", "shown"), [
    (DUE - timedelta(days=12, hours=12), "12.5d left"),
    (DUE, "0.0d left"),  # due now is not yet overdue (deadline_view agrees, below)
    (DUE + timedelta(hours=1), "overdue 0.0d"),
    (DUE + timedelta(days=3, hours=12), "overdue 3.5d"),
])
def test_describe_an_open_request(now, shown):
    assert describe(record(), now) == shown


# --- The verdict on a final request --------------------------------------------------------------------

@pytest.mark.parametrize("state", sorted(FINAL_STATES))
@pytest.mark.parametrize(("completed_at", "verdict"), [
    (DUE - timedelta(days=10), "met"),
    (DUE, "met"),  # completed at the last instant is on time
    (DUE + timedelta(seconds=1), "missed"),
    (DUE + timedelta(days=5), "missed"),
])
def test_a_final_request_is_met_or_missed_by_its_completion_time(state, completed_at, verdict):
    final = record(state, completed_at=completed_at)
    assert describe(final, completed_at) == verdict
    assert describe(final, completed_at + timedelta(days=400)) == verdict  # the verdict does not move with the clock


def test_a_final_request_without_a_completion_time_has_not_met_its_deadline():
    """A request that failed before anything completed cannot show the deadline met, even early on."""
    assert describe(record(RequestState.FAILED), VERIFIED + timedelta(days=1)) == "missed"


# --- HELD: a legal hold keeps the erasure back, but the request stays open and its clock runs --------

def test_held_is_not_final():
    assert not RequestState.HELD.is_final


def test_a_held_request_counts_down_and_goes_overdue_like_any_open_one():
    held = record(RequestState.HELD)
    assert describe(held, DUE - timedelta(days=5)) == "5.0d left"
    assert describe(held, DUE + timedelta(days=2)) == "overdue 2.0d"
    assert deadline_view([held], DUE - timedelta(days=5)) == DeadlineView(open=1, overdue=0, at_risk=1)
    assert deadline_view([held], DUE + timedelta(days=2)) == DeadlineView(open=1, overdue=1, at_risk=0)
    assert deadline_view([held], DUE - timedelta(days=20)) == DeadlineView(open=1, overdue=0, at_risk=0)


# --- deadline_view: open, overdue, at risk --------------------------------------------------------------

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def test_an_overdue_request_is_overdue_and_not_also_at_risk():
    assert deadline_view([due_in(-timedelta(days=3), NOW)], NOW) == DeadlineView(open=1, overdue=1, at_risk=0)


def test_a_request_due_in_weeks_is_neither_overdue_nor_at_risk():
    assert deadline_view([due_in(timedelta(days=20), NOW)], NOW) == DeadlineView(open=1, overdue=0, at_risk=0)


@pytest.mark.parametrize(("delta", "at_risk"), [
    (timedelta(days=3), 1),
    (timedelta(days=7), 1),  # exactly 7 days left: at risk
    (timedelta(days=7, seconds=1), 0),
    (timedelta(0), 1),  # due this instant: not overdue yet, at risk
])
def test_at_risk_means_due_within_seven_days(delta, at_risk):
    assert deadline_view([due_in(delta, NOW)], NOW) == DeadlineView(open=1, overdue=0, at_risk=at_risk)


def test_overdue_starts_just_after_the_deadline():
    assert deadline_view([due_in(-timedelta(seconds=1), NOW)], NOW) == DeadlineView(open=1, overdue=1, at_risk=0)


def test_final_requests_are_not_counted_whatever_their_deadline():
    finals = [record(state, verified_at=NOW - timedelta(days=60), completed_at=NOW - timedelta(days=1))
              for state in FINAL_STATES]
    assert deadline_view(finals, NOW) == DeadlineView(open=0, overdue=0, at_risk=0)


def test_a_mixed_book_is_counted_per_request_and_exported_as_a_metric():
    book = [
        due_in(-timedelta(days=10), NOW),
        due_in(-timedelta(hours=1), NOW, RequestState.HELD),
        due_in(timedelta(days=1), NOW, RequestState.POLLING),
        due_in(timedelta(days=7), NOW),
        due_in(timedelta(days=6), NOW, RequestState.AWAITING_APPROVAL),
        due_in(timedelta(days=25), NOW),
        record(RequestState.COMPLETED, verified_at=NOW - timedelta(days=40), completed_at=NOW - timedelta(days=15)),
        due_in(timedelta(days=12), NOW),
        record(RequestState.FAILED, verified_at=NOW - timedelta(days=50)),
    ]
    assert deadline_view(book, NOW) == DeadlineView(open=7, overdue=2, at_risk=3)
    assert deadline_view([due_in(timedelta(days=20), NOW)], NOW) == DeadlineView(open=1, overdue=0, at_risk=0)


@pytest.mark.parametrize("state", OPEN_STATES)
def test_every_open_state_is_on_the_clock(state):
    assert deadline_view([due_in(-timedelta(days=1), NOW, state)], NOW) == DeadlineView(open=1, overdue=1, at_risk=0)


def test_describe_and_deadline_view_agree_at_the_deadline():
    due_now = due_in(timedelta(0), NOW)
    assert describe(due_now, NOW) == "0.0d left" and deadline_view([due_now], NOW).overdue == 0


# --- The certificate's verdict -------------------------------------------------------------------------

def certificate_of(completed_at: datetime | None, state: RequestState = RequestState.COMPLETED,
                   verified_at: datetime = VERIFIED) -> dict[str, object]:
    return build_certificate(record(state, verified_at=verified_at, completed_at=completed_at), "hmac-sha256:d", None)


@pytest.mark.parametrize(("completed_at", "met"), [
    (VERIFIED + timedelta(days=3), True),
    (DUE, True),
    (DUE + timedelta(microseconds=1), False),
    (DUE + timedelta(days=9), False),
])
def test_the_certificate_says_whether_the_deadline_was_met(completed_at, met):
    cert = certificate_of(completed_at)
    assert cert["deadline_met"] is met
    assert cert["deadline"] == DUE.isoformat() and cert["completed_at"] == completed_at.isoformat()


def test_a_certificate_without_a_completion_time_is_judged_as_of_now():
    """No completion time recorded: the certificate is dated now, and the verdict taken now."""
    before = datetime.now(UTC)
    recent = certificate_of(None, RequestState.PARTIAL, verified_at=before - timedelta(days=1))
    after = datetime.now(UTC)
    assert recent["deadline_met"] is True
    assert before <= datetime.fromisoformat(str(recent["completed_at"])) <= after
    long_ago = certificate_of(None, RequestState.PARTIAL, verified_at=before - timedelta(days=45))
    assert long_ago["deadline_met"] is False
