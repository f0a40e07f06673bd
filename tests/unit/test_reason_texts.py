"""Reasons people type (a hold's, a rejection's) as they are kept: percent-encoding cannot bring a control
character back after it was removed, scripts that need the zero-width (non-)joiner keep it, a subject's
surname alone is masked, and a purge's ticket follows the doors' rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.registers import clean_text
from shared.free_text import one_line, without_the_subject
from shared.models import Subject, utcnow


@pytest.mark.parametrize("typed", ["hold%0Aforged%1B]0;pwned%07 %E2%80%AEevil", "x%250Ay%251B[2J"])
def test_percent_encoded_controls_do_not_come_back(typed):
    kept = clean_text(typed) or ""
    assert kept and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in kept)


def test_the_zero_width_joiners_some_scripts_need_are_kept_and_other_format_characters_go():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", written with a ZWNJ
    assert one_line(persian) == persian
    assert one_line("a\u200bb\u202ec\ufeffd\u200de") == "abcd\u200de"


SUBJECT = Subject(emails=["jane.marlowe@example.org"], names=["Jane Marlowe", "Li Ng"])


@pytest.mark.parametrize(("typed", "kept"), [
    ("Marlowe v ACME", "<SUBJECT> v ACME"),
    ("R v MARLOWE [2025] EWHC 1", "R v <SUBJECT> [2025] EWHC 1"),
    ("Jane Marlowe withdrew", "<SUBJECT> withdrew"),
    ("wrote from jane.marlowe@example.org", "wrote from <SUBJECT>"),
    ("Marlowesque claims", "Marlowesque claims"),  # a word that merely starts like the name
    ("Li said no", "Li said no"),  # a name word this short stands alone too often to mask
])
def test_a_reason_keeps_no_word_of_the_subject_s_names(typed, kept):
    assert without_the_subject(typed, SUBJECT) == kept


def test_a_purge_ticket_outside_the_doors_pattern_is_refused(runtime):
    from services.deletion.purge import PurgePlan, PurgeRefused, start_purge

    runtime.settings.retention_policy = "RP-1: recordings older than 90 days"
    now = utcnow()
    plan = PurgePlan(older_than_days=90, as_of=now, cutoff=now - timedelta(days=90), interval="x", conversations=[])
    with pytest.raises(PurgeRefused, match=r"^ticket: "):
        start_purge(runtime, plan, ticket="../purge 1")
