"""Checksums and structural rules that turn a pattern match into a finding.

Each function takes the matched text (separators included) and answers yes or no; none of them
raises on odd input. They are what keeps order numbers, dates and amounts out of the results.
"""

from __future__ import annotations

import ipaddress
from typing import Final

# Characters people put between groups of digits; stripped before any checksum.
_SEPARATORS: Final = " \t\u00a0\u202f\u2009-./()"
_DROP_SEPARATORS: Final = str.maketrans("", "", _SEPARATORS)

# IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

# Issuer prefixes (IIN ranges) and the lengths each network issues.
_CARD_NETWORKS: Final[tuple[tuple[tuple[int, int], int, frozenset[int]], ...]] = (
    # ((first, last) prefix range, prefix digits, allowed lengths)
    ((4, 4), 1, frozenset({13, 16, 19})),  # Visa (13-digit numbers are no longer issued, but still quoted)
    ((51, 55), 2, frozenset({16})),  # Mastercard
    ((2221, 2720), 4, frozenset({16})),  # Mastercard 2-series
    ((34, 34), 2, frozenset({15})),  # American Express
    ((37, 37), 2, frozenset({15})),
    ((6011, 6011), 4, frozenset({16, 17, 18, 19})),  # Discover
    ((644, 649), 3, frozenset({16, 17, 18, 19})),
    ((65, 65), 2, frozenset({16, 17, 18, 19})),
    ((3528, 3589), 4, frozenset({16, 17, 18, 19})),  # JCB
    ((1800, 1800), 4, frozenset({15})),  # JCB's 15-digit numbers (issued through Diners/Amex)
    ((2131, 2131), 4, frozenset({15})),
    ((300, 305), 3, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    ((36, 36), 2, frozenset({14, 15, 16, 17, 18, 19})),
    ((38, 39), 2, frozenset({14, 15, 16, 17, 18, 19})),
    ((62, 62), 2, frozenset({16, 17, 18, 19})),  # UnionPay
    ((5018, 5018), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),  # Maestro
    ((5020, 5020), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((5038, 5038), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((56, 58), 2, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((6304, 6304), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((6759, 6759), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((6761, 6763), 4, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ((60, 60), 2, frozenset({16})),  # RuPay
    ((81, 82), 2, frozenset({16})),
    ((508, 508), 3, frozenset({16})),
    ((2200, 2204), 4, frozenset({16, 17, 18, 19})),  # Mir
    ((637, 639), 3, frozenset({16})),  # InstaPayment
)


def digits_only(text: str) -> str:
    """``text`` with its group separators removed (the result may still hold letters)."""
    return text.translate(_DROP_SEPARATORS)


# Luhn's doubled digit (twice the digit, less 9 above 9) as the ASCII byte of its value.
_DOUBLED: Final = bytes(
    48 + (2 * (byte - 48) if 2 * (byte - 48) <= 9 else 2 * (byte - 48) - 9) if 48 <= byte <= 57 else byte
    for byte in range(256)
)


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits."""
    if not digits.isdigit() or not digits.isascii():
        return False
    # Summed in C over the ASCII bytes: every other digit from the right as it is, the rest doubled.
    raw = digits.encode("ascii")
    total = sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)
    return total % 10 == 0


def _prefix_lengths() -> dict[str, frozenset[int]]:
    """Every issuer prefix of ``_CARD_NETWORKS`` written out, with the lengths issued under it."""
    table: dict[str, frozenset[int]] = {}
    for (first, last), width, lengths in _CARD_NETWORKS:
        for value in range(first, last + 1):
            prefix = str(value)
            # Every range is written at its full width (4, 34, 300, 1800...), so the written-out prefix is
            # the range's digits; a range that is not (a leading zero) would need the slow path below.
            assert len(prefix) == width, f"card prefix range {first}-{last} is not {width} digits wide"
            table[prefix] = table.get(prefix, frozenset()) | lengths
    return table


# A dictionary lookup per prefix width answers for all networks.
_PREFIX_LENGTHS: Final = _prefix_lengths()
_PREFIX_WIDTHS: Final = tuple(sorted({width for _, width, _ in _CARD_NETWORKS}))


def card_network_ok(digits: str) -> bool:
    """The number starts with an issuer prefix whose network issues numbers of this length."""
    length = len(digits)
    if length >= 4 and digits.isascii() and digits.isdigit():
        for width in _PREFIX_WIDTHS:
            lengths = _PREFIX_LENGTHS.get(digits[:width])
            if lengths is not None and length in lengths:
                return True
        return False
    return any(length in lengths and first <= int(digits[:width]) <= last for (first, last), width, lengths in _CARD_NETWORKS)


def credit_card_ok(text: str) -> bool:
    """13-19 digits with a known issuer prefix, a valid Luhn checksum and not all one digit."""
    digits = digits_only(text).replace(",", "")
    if not 12 <= len(digits) <= 19 or not digits.isdigit() or len(set(digits)) < 2:
        return False
    return card_network_ok(digits) and luhn_ok(digits)


_IBAN_LETTER_DIGITS: Final = {ord(letter): str(int(letter, 36)) for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def iban_ok(text: str) -> bool:
    """Country code with its registered length and a mod-97 checksum equal to 1."""
    compact = digits_only(text).upper()
    if len(compact) < 15 or not compact.isascii() or not compact.isalnum():
        return False
    country, check = compact[:2], compact[2:4]
    if IBAN_LENGTHS.get(country) != len(compact) or not check.isdigit() or check in ("00", "01", "99"):
        return False
    rearranged = compact[4:] + compact[:4]
    # Each letter as its two digits (A = 10 ... Z = 35, what int(char, 36) gives), in one C call.
    return int(rearranged.translate(_IBAN_LETTER_DIGITS)) % 97 == 1


def us_ssn_ok(text: str) -> bool:
    """Nine digits, area not 000/666/900-999, group not 00, serial not 0000."""
    digits = digits_only(text)
    if len(digits) != 9 or not digits.isdigit() or not digits.isascii():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return len(set(digits)) > 1


def ipv4_ok(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def ipv6_ok(text: str) -> bool:
    """A valid IPv6 address (zone id allowed) that is more than ``::`` alone."""
    if text.count(":") < 2 or not any(char.isdigit() for char in text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
