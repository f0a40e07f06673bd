"""Anonymise (issue 17): the placeholders a GDPR_UPDATE writes in place of the subject's identifiers.

Why placeholders look like this. Each is derived from a keyed digest of the value (``shared.digest``), so
the same identifier always maps to the same placeholder (a conversation anonymised twice, or by two
requests, reads the same) and nothing in it can be reversed or confirmed by guessing without the
deployment's key. Each also lies in a range that can never belong to a person:

- emails: ``anonymised-<8 hex>@invalid.example``, under ``.example`` (RFC 2606 reserved, never delegated);
- phones: ``+447700900000``-``+447700900999``, Ofcom's range reserved for drama and fiction (never assigned
  to a subscriber), chosen over ``+1 555 01xx`` because it is a full E.164 mobile number that phone-typed
  fields accept, and it holds a thousand values instead of a hundred;
- names: ``Anonymised`` (a name carries no digest: the value itself would be the only thing a name says);
- external contact ids: ``anonymised-<16 hex>`` (ReplacementTerm type ``EXTERNAL_ID``).

What is replaced. Every email and phone of the erasable identity (discovery's and the redaction pool's
transcript findings, reassigned numbers left out) and every external contact id; a name only on the
operator's opt-in (``erase_by_name``), the same rule as a GDPR_DELETE, since a name reaches namesakes.
Journey cookies and the user id have no ReplacementTerm type (genesys-api.md A) and are not replaced.
"""

from __future__ import annotations

import re
from collections import Counter

from shared.digest import digest_value
from shared.models import ErasureRecord

EMAIL_DOMAIN = "invalid.example"
PHONE_RANGE_START = 447700900000  # Ofcom drama range +44 7700 900000 .. 900999
PHONE_RANGE_SIZE = 1000
NAME_PLACEHOLDER = "Anonymised"
PREFIX = "anonymised-"


def _hex(key: bytes, kind: str, value: str) -> str:
    """The keyed digest of one identifier, its kind in the message so an email and an id never share one."""
    return digest_value(key, f"anonymise\x1f{kind}\x1f{value}").split(":", 1)[1]


def email_placeholder(key: bytes, email: str) -> str:
    return f"{PREFIX}{_hex(key, 'email', email.strip().lower())[:8]}@{EMAIL_DOMAIN}"


def phone_placeholder(key: bytes, phone: str) -> str:
    return f"+{PHONE_RANGE_START + int(_hex(key, 'phone', phone), 16) % PHONE_RANGE_SIZE}"


def external_id_placeholder(key: bytes, value: str) -> str:
    return f"{PREFIX}{_hex(key, 'external_id', value)[:16]}"


def is_placeholder(value: str) -> bool:
    """Whether a value is one of ours (verification: the placeholder must be present)."""
    if value == NAME_PLACEHOLDER or value.startswith(PREFIX):
        return True
    digits = value.lstrip("+")
    return digits.isdigit() and PHONE_RANGE_START <= int(digits) < PHONE_RANGE_START + PHONE_RANGE_SIZE


_PLACEHOLDER_TEXT = re.compile(rf"{PREFIX}[0-9a-f]{{8}}|\b{NAME_PLACEHOLDER}\b|\+?447700900\d{{3}}(?!\d)")


def holds_placeholder(text: str) -> bool:
    """Whether a field or a message text carries one of our placeholders (verification of an anonymise)."""
    return bool(_PLACEHOLDER_TEXT.search(text))


def replacement_terms(key: bytes, record: ErasureRecord) -> list[dict[str, str]]:
    """The ``replacementTerms`` of this request's one GDPR_UPDATE (SDK ``ReplacementTerm``)."""
    identity = record.erasable_identity
    terms = [*({"type": "EMAIL", "existingValue": e, "updatedValue": email_placeholder(key, e)} for e in identity.emails),
             *({"type": "PHONE", "existingValue": p, "updatedValue": phone_placeholder(key, p)} for p in identity.phones),
             *({"type": "EXTERNAL_ID", "existingValue": c, "updatedValue": external_id_placeholder(key, c)}
               for c in identity.external_contact_ids)]
    if record.erase_by_name:
        terms += [{"type": "NAME", "existingValue": n, "updatedValue": NAME_PLACEHOLDER} for n in identity.names]
    return terms


def replaced_counts(record: ErasureRecord) -> dict[str, int]:
    """How many identifiers of each kind the GDPR_UPDATE replaces (for the certificate: counts, no values).
    Needs no key: it counts the terms ``replacement_terms`` builds."""
    counts = Counter(term["type"].lower() for term in replacement_terms(b"count", record))
    return {kind: counts.get(kind, 0) for kind in ("email", "phone", "external_id", "name")}
