"""Normalising identifiers so that one person's data compares equal however it was typed.

Emails are lower-cased; phone numbers become E.164 through ``phonenumbers`` (the platform's
identifier lookup and subject search want the ``+`` and country code).
"""

from __future__ import annotations

import re

import phonenumbers

from shared.errors import ErasureError

# Deliberately plain: one @, a dotted domain, no spaces. Full RFC 5322 is not what people type.
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# A platform conversation id (Genesys Cloud: a UUID), as an operator may type one to hold it: letters,
# digits, - and _, at most 64. Anything else (an email or phone typed in the wrong field, free text) is
# refused before it reaches the hold register.
_CONVERSATION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: The platform's ids of conversations, users and external contacts (UUIDs): what the HTTP intake holds
#: ``user_id``/``external_contact_ids`` to at every door, and what an export review takes as a conversation id.
#: A request's ticket at every door (it is a URL path segment of the API and the console, and a Redis key).
TICKET_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID_RE = re.compile(UUID_PATTERN)


class InvalidIdentifier(ErasureError, ValueError):
    """An identifier could not be understood. The message never repeats the value."""


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a string of a platform id's shape (``UUID_PATTERN``, nothing around it)."""
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def normalize_conversation_id(value: str) -> str:
    """A conversation id as typed, trimmed, if it has a conversation id's shape."""
    candidate = value.strip()
    if not _CONVERSATION_ID_RE.fullmatch(candidate):
        raise InvalidIdentifier("not a conversation id (1 to 64 letters, digits, - and _)")
    return candidate


def normalize_email(value: str) -> str:
    candidate = value.strip().lower()
    if len(candidate) > 254 or not _EMAIL_RE.match(candidate):
        raise InvalidIdentifier("not a valid email address")
    return candidate


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Return E.164 (``+447700900123``); numbers without ``+`` need ``default_region``."""
    raw = value.strip()
    if raw.startswith("tel:"):
        raw = raw[4:]
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("not a parseable phone number (give it with + and country code)") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentifier("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_digits(value: str) -> str:
    """Digits only, for comparing numbers from platform fields like ``tel:+44...``."""
    return re.sub(r"\D", "", value)


def try_normalize_phone(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except InvalidIdentifier:
        return None


def try_normalize_email(value: str) -> str | None:
    try:
        return normalize_email(value)
    except InvalidIdentifier:
        return None
