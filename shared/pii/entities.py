"""What the engine reports: a typed span of the input text, never the text itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

EntityType = Literal["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "US_SSN", "SUBJECT"]

EMAIL: Final = "EMAIL"
PHONE: Final = "PHONE"
CREDIT_CARD: Final = "CREDIT_CARD"
IBAN: Final = "IBAN"
IP_ADDRESS: Final = "IP_ADDRESS"
US_SSN: Final = "US_SSN"
SUBJECT: Final = "SUBJECT"

ENTITY_TYPES: Final[tuple[EntityType, ...]] = (EMAIL, PHONE, CREDIT_CARD, IBAN, IP_ADDRESS, US_SSN, SUBJECT)


@dataclass(frozen=True, slots=True)
class Entity:
    """``text[start:end]`` is personal data of kind ``type``.

    ``validated`` is False for a phone number masked on its shape and context alone ("call me on"
    followed by digits the numbering plan does not accept): it is personal data to hide, but not a
    number to add to anyone's identity or to search the platform for.
    """

    type: EntityType
    start: int
    end: int
    validated: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("an entity needs 0 <= start < end")

    def token(self) -> str:
        """The replacement written in place of the span: ``<EMAIL>``, ``<PHONE>``..."""
        return f"<{self.type}>"

    def to_dict(self) -> dict[str, str | int]:
        return {"type": self.type, "start": self.start, "end": self.end}
