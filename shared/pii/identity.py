"""From a finding to an identifier: which masked phone numbers may join a subject's identity.

Masking is generous (a phone-shaped number after "call me on" is hidden even when the numbering
plan rejects it); identity expansion is not. What joins an identity is searched for across the
organisation and named in GDPR requests, so only a number the plan validates, written with its
country code, is turned into an identifier, and always in E.164.
"""

from __future__ import annotations

import re
from typing import Final

from shared.identifiers import try_normalize_phone
from shared.pii import spoken
from shared.pii.entities import PHONE, Entity
from shared.pii.normalise import matching_copy

_TRUNK_IN_BRACKETS: Final = re.compile(r"\(\s*0\s*\)")


def phone_identifier(text: str, entity: Entity) -> str | None:
    """E.164 of the phone number ``entity`` marks in ``text``, or None.

    None for anything but a validated PHONE finding, for a number written without its country
    code (its region would be a guess) and for one the plan does not accept.
    """
    if entity.type != PHONE or not entity.validated:
        return None
    value = _TRUNK_IN_BRACKETS.sub("", matching_copy(text[entity.start : entity.end])).strip(" (")
    if any(char.isalpha() for char in value):
        # Read out loud: "plus four four, two oh, seven nine four six, ..."
        said = spoken.find_spoken_numbers(value)
        if len(said) != 1:
            return None
        value = ("+" if said[0].plus else "") + said[0].digits
    if value.startswith("00"):
        value = "+" + value[2:]
    if not value.startswith("+"):
        return None
    return try_normalize_phone(value)
