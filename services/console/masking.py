"""Identifiers as the console shows them: enough to recognise, not enough to use.

``j•••@e•••.org``, ``+44 •••• ••• 123``. Revealing one in full is a deliberate, audited POST
(``routes``), never a default.
"""

from __future__ import annotations

import phonenumbers

from shared.models import ErasureRecord

DOT = "\u2022"


def mask_email(email: str) -> str:
    """The first character of the local part and of the domain, and the domain's last label.

    The domain is masked too: a person's own domain (``jane@janedoe.name``) names them as surely as the
    local part does. The last label (``org``, ``de``) says too little to identify anyone.
    """
    local, at, domain = email.partition("@")
    if not at:
        return mask_other(email)
    head, dot, last = domain.rpartition(".")
    shown_domain = f"{head[:1]}{DOT * 3}.{last}" if dot and head else mask_other(domain)
    return f"{local[:1]}{DOT * 3}@{shown_domain}"


def mask_phone(phone: str) -> str:
    """The country code and the last three digits; the rest as groups of dots."""
    try:
        parsed = phonenumbers.parse(phone, None)
        country = f"+{parsed.country_code}"
        national = str(parsed.national_number)
    except phonenumbers.NumberParseException:
        digits = "".join(c for c in phone if c.isdigit())
        return f"{DOT * 4} {digits[-3:]}" if len(digits) > 3 else DOT * 4
    hidden = max(0, len(national) - 3)
    first, second = hidden - hidden // 2, hidden // 2
    groups = [DOT * n for n in (first, second) if n]
    return " ".join([country, *groups, national[-3:]])


def mask_other(value: str) -> str:
    """Any other identifier (a name, an external contact id): its first character and its length hidden."""
    return f"{value[:1]}{DOT * 3}" if value else ""


def mask(kind: str, value: str) -> str:
    if kind == "emails":
        return mask_email(value)
    if kind == "phones":
        return mask_phone(value)
    return mask_other(value)


def shown_identifiers(record: ErasureRecord, revealed: tuple[str, int] | None = None, value: str | None = None,
                ) -> list[tuple[str, int, str, bool]]:
    """(kind, position, shown, in clear) per identifier of the erasable identity: masked, but for the one
    revealed. A final request has none to show (its record keeps digests only)."""
    if record.state.is_final or record.scrubbed:
        return []
    identity = record.erasable_identity
    out = []
    for kind in ("emails", "phones", "names"):
        for n, item in enumerate(getattr(identity, kind)):
            clear = revealed == (kind, n) and value == item
            out.append((kind, n, item if clear else mask(kind, item), clear))
    return out
