"""A hold's reason and basis, typed by a person, reach a request's record and certificate without the subject
in them: the register's own scrub finds emails and phones but cannot know a name."""

from __future__ import annotations

from services.deletion.holds import subject_withheld, withhold
from shared.models import ErasureRecord, Subject, utcnow

EMAIL, NAME = "jane.marlowe@example.org", "Jane Marlowe"


def record() -> ErasureRecord:
    return ErasureRecord(ticket="W-1", subject=Subject(emails=[EMAIL], names=[NAME]), verified_at=utcnow())


class NoProtection:
    def protected_conversations(self, ids):
        return set()


def test_a_subject_hold_naming_the_subject_is_kept_without_the_name(runtime):
    runtime.holds().add_subject(EMAIL, f"{NAME} v. ACME, tribunal claim", basis=f"Art. 17(3)(e): {NAME}'s claim")
    [entry] = subject_withheld(runtime, record())
    assert "Marlowe" not in entry.reason + entry.basis
    assert "v. ACME, tribunal claim" in entry.reason and entry.basis.startswith("Art. 17(3)(e): ")


def test_a_conversation_hold_of_the_request_is_kept_without_the_name_and_a_purge_keeps_the_text(runtime):
    conversation = "3f2b8c1e-0d4a-4b6e-9a7c-5e1f2d3c4b5a"
    runtime.holds().add_conversation(conversation, f"complaint by {NAME}")
    _, [entry] = withhold(runtime, NoProtection(), [conversation], record())  # type: ignore[arg-type]
    assert "Marlowe" not in entry.reason and entry.reason.startswith("complaint by ")
    # A retention purge has no subject: the register's text as it stands.
    _, [plain] = withhold(runtime, NoProtection(), [conversation])  # type: ignore[arg-type]
    assert plain.reason == f"complaint by {NAME}"
