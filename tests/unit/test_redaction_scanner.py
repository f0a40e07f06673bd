"""What the subject typed joins their identity only when it is a number the plan validates (issue 20).

A phone-shaped number the numbering plan rejects ("call me on +1 (111) 555-0199") is masked in the
transcript but never fed back into discovery or a GDPR request.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.redaction.scanner import scan_transcripts
from shared.models import Subject


@dataclass
class _Message:
    text: str
    from_customer: bool = True


@dataclass
class _Conversation:
    ids: list[str]

    def message_ids(self) -> list[str]:
        return self.ids


class _Client:
    """The two reads the scanner makes, over one conversation's messages."""

    def __init__(self, messages: list[_Message]) -> None:
        self.messages = messages

    def get_message_conversation(self, conversation_id: str) -> _Conversation:
        return _Conversation([str(i) for i in range(len(self.messages))])

    def get_messages_bulk(self, conversation_id: str, message_ids: list[str]) -> list[_Message]:
        return self.messages


def _scan(*texts: str, from_customer: bool = True):
    client = _Client([_Message(text, from_customer) for text in texts])
    return scan_transcripts(client, Subject(emails=["jane@example.com"]), ["c1"])  # type: ignore[arg-type]


def test_an_invalid_number_is_masked_but_not_added_to_the_identity():
    result = _scan("call me on +1 (111) 555-0199", "my mobile is 0044 1632 960999")
    assert result.redacted["c1"] == ["call me on <PHONE>", "my mobile is <PHONE>"]
    assert result.new_identifiers.phones == []


def test_a_valid_international_number_is_added_in_e164():
    result = _scan("call me on +44 20 7946 0958", "or 0044 20 7946 0958")
    assert result.redacted["c1"] == ["call me on <PHONE>", "or <PHONE>"]
    assert result.new_identifiers.phones == ["+442079460958"]


def test_a_spoken_number_the_plan_accepts_is_added_in_e164():
    result = _scan("plus four four, two oh, seven nine four six, oh nine five eight")
    assert result.redacted["c1"] == ["<PHONE>"]
    assert result.new_identifiers.phones == ["+442079460958"]


def test_what_the_agent_typed_is_never_the_subjects():
    result = _scan("call me on +44 20 7946 0958", from_customer=False)
    assert result.new_identifiers.phones == []
