"""Pattern detectors: a compiled regular expression finds candidates, a validator decides.

Every function takes the text and returns ``(start, end)`` spans of accepted findings; the
engine orders them, resolves overlaps and names their types. Patterns are compiled once, at
import. Candidates are cheap to find; the expensive checks (``phonenumbers``, checksums) only
ever run on candidates.

Blockers are spans that look numeric but are known not to be personal data: dates, times,
amounts, version strings and numbers introduced as an order, ticket or tracking number. They
are never reported; they cut phone, card and SSN candidates so that "order #100234567" or
"2024-03-15 14:30" never become a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain, pairwise
from typing import Final

import phonenumbers

from shared.pii import context, spoken, validators
from shared.pii.normalise import CARD_MARK, EMAIL_MARK, PHONE_MARK

Span = tuple[int, int]

# --------------------------------------------------------------------------------------------
# Context words (shared/pii/context.py; re-exported here for the detectors' callers)
# --------------------------------------------------------------------------------------------

introduced_as_reference = context.introduced_as_reference
words_before = context.words_before
words_after = context.words_after
_words = context._words


_CONTEXT_WINDOW: Final = 48


def _before(text: str, start: int, width: int = _CONTEXT_WINDOW) -> str:
    return text[max(0, start - width) : start]


# --------------------------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------------------------

# The characters people actually use before the @ (RFC 5322 allows more, such as = and ?, which
# would swallow "user=" or "?email=" in front of an address).
_LOCAL_CHARS: Final = r"[\w%'+\-]"
_EMAIL: Final = re.compile(
    rf"(?<![\w.%+\-])(?<!\w')\w{_LOCAL_CHARS}*(?:\.{_LOCAL_CHARS}+)*"
    r"[ \t]?@[ \t]?"
    r"(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+(?P<tld>[^\W\d_]{2,24}|xn--[a-z0-9\-]{2,30})(?![\w\-]|\.[^\W_])"
)
# File names that look like addresses: "logo@2x.png".
_NOT_TLDS: Final = _words(
    "png jpg jpeg gif svg webp bmp ico tif tiff pdf doc docx xls xlsx ppt txt csv log js ts css html htm json xml "
    "yaml yml zip gz tar py rb java go rs exe dll so mp3 mp4 wav mov avi"
)

# "jane dot doe at gmail dot com", "jane.doe(at)gmail(dot)com", "jane arroba gmail punto com".
_DOT_WORDS: Final = r"(?:dot|punkt|point|punto|punt)"
_SPOKEN_DOT: Final = (
    rf"(?:[ \t]*[\[({{<][ \t]*(?:{_DOT_WORDS}|\.)[ \t]*[\])}}>][ \t]*|[ \t]+{_DOT_WORDS}[ \t]+|[ \t]?\.[ \t]?)"
)
_SPOKEN_AT_WORD: Final = r"(?:at|arroba|arobase|chez|[äa]t|apenstaartje|klammeraffe|chiocciola)"
_SPOKEN_AT: Final = (
    rf"(?P<at>[ \t]*[\[({{<][ \t]*(?:{_SPOKEN_AT_WORD}|@)[ \t]*[\])}}>][ \t]*|[ \t]+{_SPOKEN_AT_WORD}[ \t]+|[ \t]*@[ \t]*)"
)
_TLDS: Final = (
    r"com|net|org|info|biz|edu|gov|io|co|eu|uk|de|fr|es|it|nl|be|ch|at|ie|pt|pl|se|no|dk|fi|cz|gr|hu|ro|lu"
    r"|au|nz|in|br|ca|us|mx|ar|jp|cn|ru|za|me|tv|online|email|mail"
    # Every country's two-letter domain (".ua", ".kr", ".tr"...): addresses come from everywhere.
    r"|[a-z]{2}"
    # Cyrillic country domains (Ukraine, Russia, Belarus, Serbia...): written in the letters they are named in.
    r"|укр|рф|бел|срб|мкд|қаз|мон"  # noqa: RUF001 (Cyrillic letters, meant)
)
# Spelled out letter by letter, as a caller does and speech-to-text writes it: "j a n e at ...".
_SPELLED: Final = r"[^\W_](?:[ ][^\W_]){2,40}(?![^\W_])"
_SPOKEN_EMAIL: Final = re.compile(
    # Bounded repetitions: "jane dot jane dot ..." without an "at" must not cost quadratic time.
    rf"(?i)(?<![\w.@\-])(?P<local>(?:{_SPELLED}|[\w+\-]{{1,64}})(?:{_SPOKEN_DOT}(?:{_SPELLED}|[\w+\-]{{1,64}})){{0,4}})"
    rf"{_SPOKEN_AT}(?:{_SPELLED}|[\w\-]{{1,63}})(?:{_SPOKEN_DOT}[\w\-]{{1,63}}){{0,4}}{_SPOKEN_DOT}(?:{_TLDS})(?![\w\-])"
)
_CLAUSE_BREAK: Final = re.compile(r"[,;!?]|\.(?:\s|$)")
# An agent reading an address back, right before it: "so that's jdoe at example dot com?"
_READ_BACK_BEFORE: Final = re.compile(r"(?i)(?:\bthat'?s|\bthat is|\bso it'?s)[ \t]*$")
_NOT_LOCAL_PARTS: Final = _words(
    "it i me you he she we they us him her them this that there here one home work look looking arrive arrived "
    "bought buy order ordered shop shopped stay staying live living be is was are am meet online"
)
_EMAIL_CONTEXT_BEFORE: Final = re.compile(
    r"(?i)(?:e-?mail|mail|address|adresse|adress|direcci[oó]n|correo|courriel|indirizzo|adres|contact|reach|write|send"
    r"|confirm|spell|read"
    # The matching copy's mark for a Chinese, Japanese or Korean word for "e-mail".
    rf"|{EMAIL_MARK})"
)


def find_emails(text: str) -> list[Span]:
    """Addresses typed as addresses (``jane.doe@example.com``, ``jane @ example.com``)."""
    if "@" not in text:
        return []
    return [m.span() for m in _EMAIL.finditer(text) if m.group("tld").lower() not in _NOT_TLDS]


# What a spelled-out or bracketed address needs somewhere: " dot ", "(at)", "[@]", "<dot>", " @ "...
_SPOKEN_HINTS: Final = re.compile(rf" {_DOT_WORDS} |[\[({{<](?:at|dot|@|\.)[\])}}>]| @ ")


_SPOKEN_HINT_WORDS: Final = (" dot ", " @ ", " punto ", " point ", " punkt ", " punt ")
# The same hints as whitespace-separated words: " dot " in a text makes "dot" one of its words.
_SPOKEN_HINT_SET: Final = frozenset(hint.strip() for hint in _SPOKEN_HINT_WORDS)


def may_hold_spoken_email(lowered: str, words: list[str] | None = None) -> bool:
    """Cheap test on the lower-cased text before running the spoken-address pattern.

    ``_SPOKEN_HINTS`` answered by substring searches (each one C call), and not even those when
    ``words`` (``lowered.split()``, when the caller has it) holds no hint word; the bracketed forms
    only where a bracket is.
    """
    if words is None or not _SPOKEN_HINT_SET.isdisjoint(words):
        for hint in _SPOKEN_HINT_WORDS:
            if hint in lowered:
                return True
    if "(" in lowered or "[" in lowered or "<" in lowered or "{" in lowered:
        return _SPOKEN_HINTS.search(lowered) is not None
    return False


_ADDRESS_LIKE_LOCAL: Final = re.compile(rf"[ \t]{_DOT_WORDS}[ \t]|[._\d]|\b\w \w \w\b")


def find_spoken_emails(text: str) -> list[Span]:
    """"jane dot doe at gmail dot com", "jane.doe(at)gmail(dot)com", "jane punto doe arroba gmail punto com"."""
    spans: list[Span] = []
    for match in _SPOKEN_EMAIL.finditer(text):
        at = match.group("at").strip(" \t")
        # "at" as a word is ordinary English ("I bought it at amazon.com"): only when the same
        # clause talks about an address, and never after a pronoun or a common word.
        if at != "@" and not at.startswith(("[", "(", "{", "<")):
            local = match.group("local").lower()
            if local in _NOT_LOCAL_PARTS:
                continue
            # A local part no sentence has ("jane dot doe", "j a n e", "jdoe_84") is an address
            # wherever it stands, an agent's read-back included; a plain word needs the clause.
            clause = _CLAUSE_BREAK.split(_before(text, match.start(), 60))[-1]
            if (
                _ADDRESS_LIKE_LOCAL.search(local) is None
                and not _EMAIL_CONTEXT_BEFORE.search(clause)
                and not _READ_BACK_BEFORE.search(clause)
            ):
                continue
        spans.append(match.span())
    return spans


# --------------------------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------------------------

_IBAN_CAND: Final = re.compile(r"(?<![^\W_])[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){11,32}")
# The rest of an IBAN of each registered length after its first four characters.
_IBAN_REST: Final = {
    length: re.compile(rf"(?:[ \-]?[A-Za-z0-9]){{{length - 4}}}") for length in set(validators.IBAN_LENGTHS.values())
}


def find_ibans(text: str, rejected: list[Span] | None = None) -> list[Span]:
    """IBANs with their country's length and a valid mod-97 checksum, grouped or not, any case.

    IBAN-shaped text that fails the checksum is added to ``rejected`` (when given), so that its
    digits are not then read as a card or phone number.
    """
    spans: list[Span] = []
    position = 0
    while (match := _IBAN_CAND.search(text, position)) is not None:
        start = match.start()
        position = start + 1
        length = validators.IBAN_LENGTHS.get(text[start : start + 2].upper())
        if length is None:
            continue
        # Cut the match after exactly ``length`` letters and digits (it may have run into a word): its
        # first four characters are letters and digits, then each is one, or a space or hyphen before one.
        cut = _IBAN_REST[length].match(text, start + 4, match.end())
        if cut is None:
            continue
        end = cut.end()
        if end < len(text) and text[end].isalnum():
            continue
        if validators.iban_ok(text[start:end]):
            spans.append((start, end))
            position = end
        elif rejected is not None and text[start : start + 2].isupper():
            rejected.append((start, end))
            position = end
    return spans


# --------------------------------------------------------------------------------------------
# Payment cards
# --------------------------------------------------------------------------------------------

_CARD_CAND: Final = re.compile(
    r"(?<![\w.,+\-])(?:\d(?:(?:[ \-\u00a0.]|[ ]-[ ])?\d){11,39}|\d(?:,[ ]\d){11,18}(?!\d)"
    r"|\d{4}(?:,[ ]\d{4}){2,3}(?:,[ ]\d{1,4})?)(?![\w]|[.,\-]\d)"
)
_GROUP: Final = re.compile(r"\d+")


def card_shaped(lengths: Sequence[int]) -> bool:
    """Digit-group lengths people write card numbers in: compact, 4-4-4-4(-3), 4-6-5, one by one (4-4-4 for 12)."""
    total = sum(lengths)
    count = len(lengths)
    if total == 12:
        # Maestro issues 12-digit numbers, written 4-4-4 or read out one digit at a time; a bare
        # run of 12 digits is more often a phone number with its country code.
        return (count == 3 and lengths[0] == 4 and lengths[1] == 4 and lengths[2] == 4) or (
            count == 12 and max(lengths) == 1  # twelve groups summing to 12, none above 1: all 1
        )
    if not 13 <= total <= 19:
        return False
    if count == 1 or (max(lengths) == 1 and min(lengths) == 1):
        return True
    if count == 3 and lengths[0] == 4 and lengths[1] == 6 and (lengths[2] == 5 or lengths[2] == 4):
        return True  # 4-6-5, 4-6-4
    if count < 3 or not 1 <= lengths[-1] <= 4:
        return False
    return lengths[: count - 1].count(4) == count - 1  # 4-4-4-x


def find_cards(text: str, rejected: list[Span] | None = None) -> list[Span]:
    """Luhn-valid numbers of a known card network, written the way card numbers are written.

    Card-shaped runs that fail the checks and hold no card are added to ``rejected`` (when given):
    a mistyped card number is not then mistaken for a phone number.
    """
    spans: list[Span] = []
    for match in _CARD_CAND.finditer(text):
        start, end = match.span()
        # Read once for both rules that look at them: a reference's words, a gift card's words.
        words = words_before(text, start)
        if context.reference_in(words):
            continue
        groups = [m.span() for m in _GROUP.finditer(text, start, end)]
        lengths = [e - s for s, e in groups]
        shaped = card_shaped(lengths)
        if not shaped and len(groups) == 1 and lengths[0] == 12:
            # "my card is 676340375325": a Maestro said to be a card; or all a caller says in a turn
            # ("Customer: 676340375325"), when no country's plan has it as a number with its code.
            shaped = _card_context(text, start, end) or (
                _whole_turn(text, start, end) and not _valid_with_country_code(text[start:end])
            )
        if shaped and validators.credit_card_ok(text[start:end]) and not _product_barcode(text[start:end]):
            if not _other_card_words(words[:3]):
                spans.append((start, end))
            continue
        if shaped and _unlisted_card(text, start, end, text[start:end]):
            spans.append((start, end))
            continue
        # A card-shaped run can still hold a card: "4111 1111 1111 1111 04/27" runs into the expiry.
        found = _cards_in_run(text, groups, lengths) if len(groups) >= 3 else []
        spans += found
        if (
            shaped
            and not found
            and rejected is not None
            and text[start] != "0"
            and not (sum(lengths) <= _MAX_DIGITS and _phone_not_card(text, start, end))
            # "+91 1761123456789": the rest of a number after its country code, not a mistyped card.
            and _AFTER_COUNTRY_CODE.search(text, max(0, start - 8), start) is None
        ):
            rejected.append((start, end))
    return spans


def _valid_with_country_code(digits: str) -> bool:
    """``digits`` read as a country code and a national number form one the plan assigns."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


# Words that say the number after them is a payment card's, in the contact centre's languages.
_CARD_WORDS: Final = _words(
    "card cards credit debit visa mastercard amex maestro jcb karte kreditkarte carte tarjeta carta kaart cartão cartao"
) | {CARD_MARK}


_NOT_PAYMENT_CARDS: Final = _words("gift loyalty member membership sim id library bonus")


# Words right after a number that say it is a card's: its expiry date or security code follows.
_CARD_WORDS_AFTER: Final = _words(
    """
    expires expiring expiry expiration exp cvv cvc cvv2 csc expire expirant ablauf läuft gültig gueltig caduca caducidad
    vence vencimiento scade scadenza verloopt vervalt geldig validade expira
    """
)


# "paid with 5020 1823 5221", "bezahlt mit ...": what a payment is made with is a card (words nearest first).
_PAID_WITH: Final = frozenset(
    {
        ("with", "paid"), ("with", "pay"), ("with", "paying"), ("to", "charged"), ("mit", "bezahlt"), ("mit", "zahlen"),
        ("avec", "payé"), ("avec", "payer"), ("con", "pagado"), ("con", "pagar"), ("con", "pagato"), ("con", "pagare"),
        ("met", "betaald"), ("met", "betalen"), ("com", "pago"), ("com", "pagar"), ("com", "paguei"),
    }
)


def _card_context(text: str, start: int, end: int | None = None) -> bool:
    """A card word shortly before ("card", "the long number on the front", "paid with"), or its expiry or security
    code right after (when ``end`` is given); not a gift, loyalty, SIM or ID card's."""
    words = words_before(text, start, 6)
    if not _NOT_PAYMENT_CARDS.isdisjoint(words):
        return False
    if not _CARD_WORDS.isdisjoint(words) or any(
        word == "number" and further == "long" for word, further in pairwise(words)
    ):
        return True
    if tuple(words[:2]) in _PAID_WITH:
        return True
    return end is not None and not _CARD_WORDS_AFTER.isdisjoint(words_after(text, end, 4))


def _other_card(text: str, start: int) -> bool:
    """"Gift card 6066 ...", "loyalty card 5412 ...": a card's number, but not a payment card's."""
    return _other_card_words(words_before(text, start, 3))


def _other_card_words(words: list[str]) -> bool:
    """:func:`_other_card` on the three words before the number."""
    return not _NOT_PAYMENT_CARDS.isdisjoint(words) and not _CARD_WORDS.isdisjoint(words)


def _phone_not_card(text: str, start: int, end: int) -> bool:
    """A card-shaped run that is no card but stands where a phone number would ("let me read that
    back, 7 9 6 1 ..."): it stays a phone candidate instead of being set aside as a mistyped card."""
    return context.phone_context(text, start, end) in _PHONE_VERDICTS and not _card_context(text, start, end)


def _unlisted_card(text: str, start: int, end: int, candidate: str) -> bool:
    """A Luhn-valid number said to be a card ("and the card, 3 5 0 9 ...") whose issuer prefix is not
    in our table: issuers' ranges change faster than any table, and the number is still a card's."""
    digits = validators.digits_only(candidate).replace(",", "")
    return (
        12 <= len(digits) <= 19
        and digits.isdigit()
        and len(set(digits)) > 1
        and validators.luhn_ok(digits)
        and (_card_context(text, start, end) or (len(digits) > _MAX_DIGITS and _read_back(text, start, end)))
    )


def _read_back(text: str, start: int, end: int) -> bool:
    """Read back by an agent or dictated by a caller ("let me read that back, 3526 3992 ..."): more digits
    than any phone number has, Luhn-valid, and given as the caller's own is a card's number."""
    return context.phone_context(text, start, end) == "strong" or _whole_turn(text, start, end)


def _product_barcode(candidate: str) -> bool:
    """Thirteen digits in one run that carry an EAN-13 check digit: a product's barcode (German and
    Austrian ones start with 40-44, like a 13-digit Visa), not a card."""
    if len(candidate) != 13 or not candidate.isdigit():
        return False
    weighted = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(candidate[:12]))
    return (10 - weighted % 10) % 10 == int(candidate[12])


def _cards_in_run(text: str, groups: Sequence[Span], lengths: Sequence[int]) -> list[Span]:
    """Card-shaped windows of a run of digit groups that are cards.

    For "4111 1111 1111 1111 0161 496 0000", or a number read out digit by digit then more digits.
    Windows must start or end with the run (or the run is read out one digit at a time): a
    card-shaped window in the middle of a longer number is part of that number.
    """
    spans: list[Span] = []
    one_by_one = max(lengths) == 1 and min(lengths) == 1
    # Digits before each group: a window's digit count without summing it.
    before = [0]
    for length in lengths:
        before.append(before[-1] + length)
    index = 0
    while index < len(groups):
        found = False
        for last in range(min(len(groups) - 1, index + 19), index, -1):
            if not (one_by_one or index == 0 or last == len(groups) - 1):
                continue
            # Twelve digits are a card only as the whole run: the last three groups of a mistyped
            # 16-digit number ("4653 5719 7209 6341") are not a 12-digit Maestro. (card_shaped
            # takes no other count outside 13-19.)
            total = before[last + 1] - before[index]
            if not 13 <= total <= 19 or not card_shaped(lengths[index : last + 1]):
                continue
            if validators.credit_card_ok(text[groups[index][0] : groups[last][1]]):
                spans.append((groups[index][0], groups[last][1]))
                index = last + 1
                found = True
                break
        if not found:
            index += 1
    return spans


# --------------------------------------------------------------------------------------------
# US social security numbers
# --------------------------------------------------------------------------------------------

_SSN: Final = re.compile(r"(?<![\w\-.])\d{3}(?:([ \-.])\d{2}\1\d{4}|\d{6})(?![\w]|[\-.]\d)")
_SSN_WORDS: Final = frozenset({"ssn", "ssns", "social", "security", "ss", "tin", "taxpayer", "itin", "sozialversicherungsnummer"})
_SSN_FILLERS: Final = frozenset(
    # "the SSN I have is ...", "the social we have on file is ...": an agent reading one back.
    {"number", "no", "nr", "num", "is", "my", "the", "your", "id", "and", "s", "i", "we", "have", "on", "file", "got"}
)
# Substrings every SSN word holds ("ssn", "social security", "tin", "taxpayer", "sozialvers...").
_SSN_HINTS: Final = ("ss", "social", "tin", "taxpayer")
# "+55 " or "0081 " right before: the digits are a phone number's, after its country code.
# "+55 ", "0081 ", "(1) ", "(+44) ": a country code, the rest of the number after it.
_AFTER_COUNTRY_CODE: Final = re.compile(r"(?:(?<![\w+])(?:\+|00)\d{1,3}|(?<![\w(])\(\+?\d{1,3}\))[ \u00a0]{1,2}$")
# Read back one digit at a time: "2 2 0 7 8 9 6 2 3", "2-2-0-7-...", "2, 2, 0, ...".
_SSN_ONE_BY_ONE: Final = re.compile(r"(?<![\w\-.,])\d(?:(?:[ ]|-|[ ]-[ ]|,[ ])\d){8}(?![\w]|[\-.,][ ]?\d|[ ]-?[ ]?\d)")


def _ssn_context(text: str, start: int) -> bool:
    return _ssn_words(words_before(text, start, 8))


def _ssn_words(words: list[str]) -> bool:
    """:func:`_ssn_context` given the (eight) words before the number."""
    for word in words:
        if word in _SSN_WORDS:
            return True
        if word not in _SSN_FILLERS and word != "#":
            return False
    return False


def ssn_hinted(lowered: str) -> bool:
    """The lower-cased text holds a fragment of every SSN word: a number read out one digit at a
    time may be an SSN."""
    # _SSN_HINTS written out: four substring searches, no generator.
    return "ss" in lowered or "social" in lowered or "tin" in lowered or "taxpayer" in lowered


def find_us_ssns(text: str, lowered: str | None = None) -> list[Span]:
    """``123-45-6789`` / ``123 45 6789``; nine bare digits, ``123.45.6789`` or one digit at a time only after "SSN".

    ``lowered`` is ``text.lower()`` when the caller has it already.
    """
    spans: list[Span] = []
    for match in _SSN.finditer(text):
        start = match.start()
        if not validators.us_ssn_ok(match.group()):
            continue
        if start and text[start - 1] == "+":
            continue  # "+672 11 6609", "+886 70 1234 5678": a country code and a phone number's first digits
        # Read once: every rule below reads the words before (the reference rule the first four).
        words = words_before(text, start, 8)
        ssn_words = _ssn_words(words)
        if not ssn_words and _AFTER_COUNTRY_CODE.search(text, max(0, start - 8), start):
            continue  # "+55 800 62 3456", "0081 127-12-3456": the rest of an international phone number
        if match.group(1) in (None, "."):  # nine bare digits, or dotted like a version: only after "SSN"
            if ssn_words:
                spans.append(match.span())
        elif ssn_words or not context.reference_in(words[:4]):
            spans.append(match.span())
    # Read back one digit at a time: only ever after an SSN word, so only where one could be.
    if lowered is None:
        lowered = text.lower()
    if not ssn_hinted(lowered):
        return spans
    for match in _SSN_ONE_BY_ONE.finditer(text):
        if validators.us_ssn_ok(match.group().replace(",", "")) and _ssn_context(text, match.start()):
            spans.append(match.span())
    return spans


# --------------------------------------------------------------------------------------------
# IP addresses
# --------------------------------------------------------------------------------------------

_IPV4: Final = re.compile(r"(?<![\w.\-])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d|-[^\W\d_])")
_IPV6: Final = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[\w.]+)?(?![\w:])"
)
_VERSION_WORDS: Final = _words(
    """
    v ver version versions release rel build firmware fw patch patched revision rev kernel chrome firefox ios android
    update updated upgrade upgraded downgrade downgraded bump bumped migrate migrated
    versión versao versão versie versione
    """
)
_VERSION_FILLERS: Final = _words("is to now at of the a es ist est auf naar vers zu")


def _version_context(text: str, start: int) -> bool:
    """"version 1.2.3.4", "upgraded to 4.2.0.1", "firmware is 10.1.0.3": a version, not an address."""
    for word in words_before(text, start, 3):
        if word in _VERSION_WORDS:
            return True
        if word not in _VERSION_FILLERS:
            return False
    return False


def _dotted_phone(text: str, start: int, end: int) -> bool:
    """"Tel: 32.12.34.56", "tel. 37.123.45.67": eight digits or more dotted in four groups after a phone word
    are a phone number written with dots (Denmark, Norway, Belgium...), not an address; left to the phone finder."""
    digit_count = sum(c.isdigit() for c in text[start:end])
    return digit_count >= 8 and context.phone_context(text, start, end) in _PHONE_VERDICTS


def find_ip_addresses(text: str) -> list[Span]:
    spans: list[Span] = []
    if text.count(".") >= 3:
        for match in _IPV4.finditer(text):
            start, end = match.span()
            if validators.ipv4_ok(match.group()) and not _version_context(text, start) and not _dotted_phone(text, start, end):
                spans.append((start, end))
    if "::" in text or text.count(":") >= 4:
        for match in _IPV6.finditer(text):
            if validators.ipv6_ok(match.group()):
                spans.append(match.span())
    return spans


# --------------------------------------------------------------------------------------------
# Blockers: dates, times, amounts, versions (never reported; they cut numeric candidates)
# --------------------------------------------------------------------------------------------

_DATES: Final = re.compile(
    r"(?<![\d.\-/])(?:19|20)\d{2}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?![\d]|[-/.]\d)"
    r"|(?<![\d.\-/])(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|[12]\d|3[01])\2(?:(?:19|20)\d{2}|\d{2})(?![\d]|[-/.]\d)"
)
# What every date holds: one or two digits between the same separator twice ("-03-", "/3/", ".12.").
# Looked for first, it rules out most windows with separators ("0161-496-0000") in one fast scan.
_DATE_CORE: Final = re.compile(r"([-/.])\d{1,2}\1")
_TIMES: Final = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,6})?(?![\d:])")
_CURRENCY_SYMBOLS: Final = frozenset("€$£¥₹")
_CURRENCY_WORD_LIST: Final = (
    "eur", "usd", "gbp", "chf", "aud", "brl", "inr", "cad", "rs", "dollar", "pound", "reais", "rupee", "franc", "cent",
)


def _grouped_words(words: Sequence[str]) -> str:
    """``words`` as one alternation grouped by first letter, behind a class of those letters.

    Searched case-insensitively, the class rules out most positions in one test instead of one per
    word (non-ASCII text makes each test a case mapping): whether it matches is unchanged.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(re.escape(word[1:]))
    alternatives = [f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items()]
    return f"(?=[{''.join(re.escape(first) for first in groups)}])(?:{'|'.join(alternatives)})"


# Only whether it matches is used (the amounts gate for non-ASCII text).
_CURRENCY_WORD: Final = re.compile("(?i)" + _grouped_words(_CURRENCY_WORD_LIST))
_AMOUNTS: Final = re.compile(
    r"(?:[€$£¥₹]|\b(?:EUR|USD|GBP|CHF|AUD|BRL|INR|CAD)\b|R\$|\bRs\.?)[ \u00a0]?\d[\d .,'\u00a0\u202f]*\d"
    # Digits then the currency: the run is taken whole (possessively), so a run with no currency after it
    # fails at once instead of being given back one character at a time at every digit. Only the whole
    # run can be followed by one: a shorter one is followed by a digit or a separator, never a currency.
    r"|(?<![\d.,])\d(?:[ .,'\u00a0\u202f]*+\d)++[ \u00a0]?(?:[€$£¥₹]|(?i:EUR|USD|GBP|CHF|AUD|BRL|INR|CAD|euros?|dollars?|pounds?"
    r"|reais|rupees|francs?|cents?)\b)"
)
# The class first: every alternative starts with one of its letters, and one test (case-insensitive:
# a case mapping per character outside ASCII) rules out most positions; the same matches.
_VERSIONS: Final = re.compile(
    r"(?i:(?=[vrbf])(?:\bv|\bversion[ ]?|\bver\.?[ ]?|\brelease[ ]?|\bbuild[ ]?|\bfirmware[ ]?))\d+(?:\.\d+){1,4}"
)


# A US or Mexican ZIP+4 after its state's abbreviation: "CA 94105-1234", "QRO 76000-1234".
_ZIP_PLUS_FOUR: Final = re.compile(r"(?<![\w])[A-Z]{2,4}\.?[ \u00a0](\d{5}-\d{4})(?![\w]|-\d)")
# A Brazilian CEP, five digits, a hyphen and three ("05663-781"), in an address: after "CEP" or a
# state's abbreviation ("São Paulo - SP, 05663-781"), or before the city's name ("05663-781 São Paulo").
# A German number written area code, hyphen, line ("05663-781") has the shape too, so the shape alone
# is not enough.
_CEP: Final = re.compile(r"(?<![\w\-+/.])\d{5}-\d{3}(?![\w]|[\-./]\d)")
_CEP_BEFORE: Final = re.compile(
    r"(?:\b(?i:cep)[ \u00a0.:º°n]*|(?<![\w])(?:AC|AL|AP|AM|BA|CE|DF|ES|GO|MA|MT|MS|MG|PA|PB|PR|PE|PI|RJ|RN|RS|RO|RR"
    r"|SC|SP|SE|TO)[ \u00a0]*[,\-\u2013/][ \u00a0]*)$"
)
# What a ZIP+4 and a CEP both hold ("94105-1234", "05663-781"): looked for before either scan.
_POSTCODE_CORE: Final = re.compile(r"\d{5}-\d{3}")
_CEP_AFTER: Final = re.compile(r"[ \u00a0]*[,\-\u2013]?[ \u00a0]*[^\W\d_]")


def find_blockers(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Dates, times, amounts and version strings in ``text[start:end]``: numeric, never personal data."""
    return _blockers_in(text, start, len(text) if end is None else end, _BlockerGates(text))


# ASCII text: the words the amount and version patterns need, looked for in the lower-cased text (for
# ASCII, case-insensitive matching is lower-casing). "Rs" is matched case-sensitively by ``_AMOUNTS``
# (no other of its words holds "rs", common in "yours" and "numbers"), so it is looked for as written.
_ASCII_CURRENCY_WORDS: Final = re.compile("|".join(word for word in _CURRENCY_WORD_LIST if word != "rs"))
_ASCII_VERSION_WORDS: Final = re.compile("v|release|build|firmware")


class _BlockerGates:
    """What the blocker patterns can match anywhere in a text, decided once per text.

    Every pattern needs something the whole text may not hold (a date its separator twice, a time
    a colon, an amount a currency symbol or word...); when the text lacks it, no window of it has
    it either, and the per-candidate scans skip that pattern.
    """

    __slots__ = ("_lowered", "_rs", "_word_anywhere", "colon", "currency_symbols", "dash", "date_separators", "dot")

    def __init__(self, text: str) -> None:
        separators: list[str] = []
        for sep in "-/.":
            if text.count(sep) >= 2:
                separators.append(sep)
        self.date_separators = tuple(separators)
        self.colon = ":" in text
        self._lowered: str | None = text.lower() if text.isascii() else None
        self.currency_symbols = "$" in text if self._lowered is not None else not _CURRENCY_SYMBOLS.isdisjoint(text)
        self._rs = "Rs" in text
        # A currency word anywhere in the text, looked for at the first window: the patterns are words
        # only, so a window holds one only if the text does.
        self._word_anywhere: bool | None = None
        self.dot = "." in text
        self.dash = "-" in text

    def currency(self, text: str, start: int, end: int) -> bool:
        """A currency symbol or word in ``text[start:end]`` (what ``_AMOUNTS`` needs)."""
        lowered = self._lowered
        if lowered is None:
            if self.currency_symbols and not _CURRENCY_SYMBOLS.isdisjoint(text[start:end]):
                return True
            anywhere = self._word_anywhere
            if anywhere is None:
                anywhere = self._word_anywhere = _CURRENCY_WORD.search(text) is not None
            return anywhere and _CURRENCY_WORD.search(text, start, end) is not None
        if self.currency_symbols and text.find("$", start, end) >= 0:
            return True
        if self._rs and text.find("Rs", start, end) >= 0:
            return True
        anywhere = self._word_anywhere
        if anywhere is None:
            anywhere = self._word_anywhere = _ASCII_CURRENCY_WORDS.search(lowered) is not None
        return anywhere and _ASCII_CURRENCY_WORDS.search(lowered, start, end) is not None

    def version(self, text: str, start: int, end: int) -> bool:
        """What ``_VERSIONS`` needs in ``text[start:end]``: a dot, and in ASCII text one of its words."""
        if not self.dot or text.find(".", start, end) < 0:
            return False
        lowered = self._lowered
        return lowered is None or _ASCII_VERSION_WORDS.search(lowered, start, end) is not None


def _blockers_in(text: str, start: int, end: int, gates: _BlockerGates) -> list[Span]:
    spans: list[Span] = (
        [m.span() for m in _DATES.finditer(text, start, end)]
        if gates.date_separators and _DATE_CORE.search(text, start, end) is not None
        else []
    )
    if gates.colon and text.find(":", start, end) >= 0:
        spans += [m.span() for m in _TIMES.finditer(text, start, end)]
    if gates.currency(text, start, end):
        spans += [m.span() for m in _AMOUNTS.finditer(text, start, end)]
    if gates.version(text, start, end):
        spans += [m.span() for m in _VERSIONS.finditer(text, start, end)]
    if gates.dash and _POSTCODE_CORE.search(text, start, end) is not None:
        spans += [m.span(1) for m in _ZIP_PLUS_FOUR.finditer(text, start, end)]
        spans += [m.span() for m in _CEP.finditer(text, start, end) if _cep_in_an_address(text, *m.span())]
    return spans


def _cep_in_an_address(text: str, start: int, end: int) -> bool:
    """A five-three postcode said to be one ("CEP"), after a Brazilian state, or before a place name."""
    if _CEP_BEFORE.search(text, max(0, start - 12), start) is not None:
        return True
    after = _CEP_AFTER.match(text, end)
    return after is not None and text[after.end() - 1].isupper() and context.phone_context_before(text, start) != "strong"


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

# A run of digits and the characters people group them with; no alternation inside the run, so
# the scan is fast. Checks after the match decide (seven digits or more, blockers, validity).
# "Tel.0612..." may be a number after a label (checked in ``find``); "1.0612..." is not the start of one.
# Written to start with a character class (the lookbehinds check the characters before it), so the
# scan skips letters in C instead of trying a match at each position; the same matches as
# "(?<![\w,+\-/])(?<![\d.]\.)(?:\+|\((?=[ ]?\+?\d))?[ \u00a0]?\d..." (tests/unit/pii/test_phone_fast_paths.py).
_PHONE_CAND: Final = re.compile(
    r"[+( \u00a0\d](?<![\w,+\-/][\s\S])(?<![\d.]\.[\s\S])"
    r"(?:(?<=\+)[ \u00a0]?\d|(?<=\()(?=[ ]?\+?\d)[ \u00a0]?\d|(?<=[ \u00a0])\d|(?<=\d))"
    r"(?:[ \u00a0\-./()+]{0,4}\d){6,}"
    # Not glued to a word, but maybe to a Chinese or Japanese word for "phone" ("...5678联系我"),
    # which the matching copy writes as the phone mark.
    rf"(?!(?!{PHONE_MARK})\w)"
)
# A number read back one digit at a time with commas: "0, 6, 1, 2, 3, 4, 5, 6, 7, 8". Like the patterns below, its
# first digit comes before the lookbehind that checks what precedes it (a faster scan, same matches).
_PHONE_ONE_BY_ONE: Final = re.compile(r"\d(?<![\w,+\-/.][\s\S])(?:,[ ]\d){6,14}(?![\w]|,[ ]?\d)")
# Four to six digits read back one at a time ("2 0 1 2 3 4", "5 - 4 - 2 - 0 - 1", "7, 0, 5, 2"): a small
# country's number (Niue, Saint Helena...), taken only after a read-back cue (context.read_back_before),
# as four spoken digits are.
_SHORT_ONE_BY_ONE: Final = re.compile(
    r"\d(?<![\w,+\-/.][\s\S])(?P<sep>[ ]-[ ]|-|[ ]|,[ ])\d(?:(?P=sep)\d){2,4}(?![\w]|(?P=sep)\d)"
)
# Digits one at a time, any separators: "1 - 2 - 0 - 1 - ..." is one number, never cut at its " - ".
_ONE_BY_ONE: Final = re.compile(r"\+?\d(?:(?:[ ]-[ ]|-|[ ]|,[ ]|\.)\d)+")
_NON_DIGITS: Final = re.compile(r"\D+")
_TRUNK_IN_BRACKETS: Final = re.compile(r"\(\s*0\s*\)")
_STRONG_SEPARATOR: Final = re.compile(r"[ \u00a0]*/[ \u00a0]+|[ \u00a0]+/[ \u00a0]*|[ \u00a0]+-[ \u00a0]+|[ \u00a0]{2,}")
_MESSAGE_PUNCTUATION: Final = " \t\r\n.,;:!?\"'()[]<>"
_EXTENSION_AFTER: Final = re.compile(r"[ \t,]*(?i:ext\.?|extension|x|durchwahl|poste|ext)[ \t.:]*\d")
_COUNTRY_CODE_ONLY: Final = re.compile(r"[ \u00a0]*\(?(?:\+|00)\d{1,3}\)?[ \u00a0]*")
_SSN_SHAPE: Final = re.compile(r"\d{3}([ \-])\d{2}\1\d{4}")
# Thousands grouping ("1.234.567"): a quantity.
_THOUSANDS: Final = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*")
_MIN_DIGITS: Final = 7
# Fewer digits than a written candidate needs, when said as words after "my number is" (find_spoken).
_MIN_SPOKEN_DIGITS: Final = 5
# Fewest spoken digits looked at: four, a phone number only when dictated or read back (find_spoken).
_FEWEST_SPOKEN_DIGITS: Final = 4
_MAX_DIGITS: Final = 15


@lru_cache(maxsize=64)
def _region_filters(regions: tuple[str, ...]) -> tuple[tuple[str, str, frozenset[int], re.Pattern[str]], ...]:
    """Per region: trunk prefix, possible national lengths, general national-number pattern.

    A cheap pre-check before ``phonenumbers.parse``, which costs tens of microseconds a call.
    """
    filters = []
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.general_desc is None:
            continue
        pattern = metadata.general_desc.national_number_pattern or r"\d+"
        lengths = frozenset(metadata.general_desc.possible_length or ())
        filters.append((region, metadata.national_prefix or "", lengths, re.compile(pattern)))
    return tuple(filters)


_NUMBER_TYPE_DESCS: Final = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "fixed_line", "mobile",
)
# Per national-number length: the general pattern and every number type of that length as one
# alternation (a fullmatch of "(?:a)|(?:b)" is a fullmatch of a or of b): two scans decide.
_ByLength = dict[int, tuple[re.Pattern[str], re.Pattern[str]]]
_Rules = tuple[re.Pattern[str] | None, _ByLength]


@lru_cache(maxsize=512)
def _region_rules(region: str) -> _Rules | None:
    """Compiled validity rules of a region, from ``phonenumbers``' own metadata.

    ``(national prefix to strip, rules by national-number length)``; the prefix is None where the
    region rewrites numbers when stripping it (``phonenumbers`` handles those). A number is valid
    when its length has rules, it matches the general description and one of the number types
    (a type without lengths of its own has the general ones, as in ``phonenumbers``).
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None or metadata.general_desc.national_number_pattern is None:
        return None
    general_pattern = metadata.general_desc.national_number_pattern
    general_lengths = frozenset(metadata.general_desc.possible_length)
    types: list[tuple[str, frozenset[int]]] = []
    for name in _NUMBER_TYPE_DESCS:
        desc = getattr(metadata, name, None)
        if desc is not None and desc.national_number_pattern is not None:
            types.append((desc.national_number_pattern, frozenset(desc.possible_length) or general_lengths))
    general = re.compile(general_pattern)
    by_length: _ByLength = {}
    for length in sorted(general_lengths):
        alternatives = [f"(?:{pattern})" for pattern, lengths in types if length in lengths]
        if alternatives:
            by_length[length] = (general, re.compile("|".join(alternatives)))
    prefix_pattern = metadata.national_prefix_for_parsing or metadata.national_prefix
    prefix = re.compile(prefix_pattern) if prefix_pattern and not metadata.national_prefix_transform_rule else None
    return prefix, by_length


def _valid_nsn(nsn: str, by_length: _ByLength) -> bool:
    rules = by_length.get(len(nsn))
    return rules is not None and rules[0].fullmatch(nsn) is not None and rules[1].fullmatch(nsn) is not None


def _fast_valid_rules(digits: str, rules: _Rules) -> bool:
    prefix, by_length = rules
    if prefix is not None:
        match = prefix.match(digits)
        if match is not None and match.end() > 0 and _valid_nsn(digits[match.end() :], by_length):
            return True
    return _valid_nsn(digits, by_length)


def _fast_valid_in_region(digits: str, region: str) -> bool:
    """What ``is_valid_number(parse(digits, region))`` answers, for plain cases, without parsing.

    Only ever used to say yes quickly: a no falls back to ``phonenumbers`` itself.
    """
    rules = _region_rules(region)
    return rules is not None and _fast_valid_rules(digits, rules)


def _fast_valid_international(digits: str) -> bool:
    for width in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:width]))
        if regions:
            rest = digits[width:]
            for region in regions:  # noqa: SIM110 (a plain loop: compiled with mypyc it needs no generator)
                if region != "001" and _fast_valid_in_region(rest, region):
                    return True
            return False
    return False


_Combined = dict[int, re.Pattern[str]]


@lru_cache(maxsize=64)
def _national_rules(regions: tuple[str, ...]) -> tuple[_Combined, tuple[tuple[re.Pattern[str], _Combined], ...]]:
    """The regions' rules merged, for ``_phone_valid``'s national numbers: one fullmatch per length
    answers for every region what ``_fast_valid_in_region`` answers for each.

    ``(rules for the digits as written, (prefix, rules for the digits after it) per distinct prefix)``.
    A region's rule for a length is "(?=(?:general)\\Z)(?:types)": the general pattern and a type
    both match the whole number; the regions' rules are alternatives.
    """
    written: dict[int, list[str]] = {}
    after_prefix: dict[str, dict[int, list[str]]] = {}
    for region in regions:
        rules = _region_rules(region)
        if rules is None:
            continue
        prefix, by_length = rules
        for length, (general, types) in by_length.items():
            rule = f"(?=(?:{general.pattern})\\Z)(?:{types.pattern})"
            written.setdefault(length, []).append(rule)
            if prefix is not None:
                after_prefix.setdefault(prefix.pattern, {}).setdefault(length, []).append(rule)
    return _merged(written), tuple((re.compile(prefix), _merged(rules)) for prefix, rules in after_prefix.items())


def _merged(rules: dict[int, list[str]]) -> _Combined:
    return {length: re.compile("|".join(alternatives)) for length, alternatives in rules.items()}


def _fast_valid_national(digits: str, regions: tuple[str, ...]) -> bool:
    """``_fast_valid_in_region(digits, region)`` for any of ``regions``."""
    written, prefixed = _national_rules(regions)
    rule = written.get(len(digits))
    if rule is not None and rule.fullmatch(digits) is not None:
        return True
    for prefix, by_length in prefixed:
        match = prefix.match(digits)
        if match is not None and match.end() > 0:
            nsn = digits[match.end() :]
            rule = by_length.get(len(nsn))
            if rule is not None and rule.fullmatch(nsn) is not None:
                return True
    return False


@lru_cache(maxsize=512)
def _plain_region(region: str) -> tuple[str, re.Pattern[str] | None] | None:
    """``(country code, international prefix)`` of a region whose numbers ``phonenumbers`` judges by the
    fast path's own rules, or None.

    Plain: the only region of its country code, a prefix stripped without rewriting, lengths listed.
    For such a region ``is_valid_number(parse(...))`` can only say yes where ``_fast_valid_in_region``
    does, unless the digits start with the code or the international prefix (``parse`` reads a country
    code there): then it is asked.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if (
        metadata is None
        or metadata.general_desc is None
        or not metadata.general_desc.possible_length
        or metadata.national_prefix_transform_rule
        or _region_rules(region) is None
        or metadata.country_code is None
        or phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code) != (region,)
    ):
        return None
    idd = metadata.international_prefix
    return str(metadata.country_code), re.compile(idd) if idd else None


def _parse_may_accept_national(digits: str, region: str) -> bool:
    """False when ``is_valid_number(parse(digits, region))`` is provably False, the fast path having said no."""
    plain = _plain_region(region)
    if plain is None or not digits.isascii():
        return True
    code, idd = plain
    return digits.startswith(code) or (idd is not None and idd.match(digits) is not None)


def _parse_may_accept_international(digits: str) -> bool:
    """False when ``_international_valid(digits)`` is provably False, the fast path having said no.

    ``parse("+" + digits)`` reads the same country code as the fast path; in a plain region it then
    only strips the region's own prefix, which the fast path tried; with no 0 after the code there
    is no retry. Digits that start no country code never parse.
    """
    if not digits.isascii() or digits[0] == "0":
        return True
    for width in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:width]))
        if regions:
            return len(regions) != 1 or _plain_region(regions[0]) is None or digits[width : width + 1] == "0"
    return False


@lru_cache(maxsize=8192)
def _phone_valid(candidate: str, regions: tuple[str, ...]) -> bool:
    """``candidate`` (separators included) is a valid number: international, or national in a region."""
    stripped = candidate.lstrip(" (")
    digits = _NON_DIGITS.sub("", _TRUNK_IN_BRACKETS.sub("", candidate))
    international = stripped.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return False
    if international:
        return _fast_valid_international(digits) or (_parse_may_accept_international(digits) and _international_valid(digits))
    if _fast_valid_national(digits, regions):
        return True
    for region, trunk, lengths, pattern in _region_filters(regions):
        if not _parse_may_accept_national(digits, region):
            continue  # the cheaper test first: most regions are plain
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        if not (len(national) in lengths and pattern.fullmatch(national)) and not (
            len(digits) in lengths and pattern.fullmatch(digits)
        ):
            continue
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def clear_caches() -> None:
    """Forget phone numbers already validated (for benchmarks that must start cold)."""
    _phone_valid.cache_clear()


def _international_valid(digits: str) -> bool:
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    # "+44 07700 900123": the trunk 0 typed after the country code.
    code = str(number.country_code)
    rest = digits[len(code) :]
    if rest.startswith("0") and code != "39":
        try:
            number = phonenumbers.parse("+" + code + rest[1:], None)
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_valid_number(number))
    return False


def _subtract(start: int, end: int, excluded: Sequence[Span]) -> list[Span]:
    pieces: list[Span] = []
    cursor = start
    for ex_start, ex_end in excluded:
        if ex_end <= cursor or ex_start >= end:
            continue
        if ex_start > cursor:
            pieces.append((cursor, ex_start))
        cursor = max(cursor, ex_end)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def _tighten(text: str, start: int, end: int) -> Span | None:
    """Shrink a piece left over after cutting to start at ``+``/``(``/digit and end at a digit."""
    while start < end and not (text[start].isdigit() or text[start] in "+("):
        start += 1
    while end > start and not text[end - 1].isdigit():
        end -= 1
    if start >= end:
        return None
    # A "(" whose closing bracket was cut off is not part of the number.
    if text[start] == "(" and ")" not in text[start:end]:
        start += 1
    return (start, end) if start < end else None


def _exit_code_digits(candidate: str) -> int:
    """2 when ``candidate`` starts with the international prefix 00 ("0044 ...", "(0091) ..."), else 0."""
    return 2 if candidate.lstrip(" (").startswith("00") else 0


def _dots_only(candidate: str) -> bool:
    """No separator but dots (``candidate`` holds one)."""
    for sep in " -/()+\u00a0":  # noqa: SIM110 (a plain loop: compiled with mypyc it needs no generator)
        if sep in candidate:
            return False
    return True


def _count_ok(text: str, start: int, end: int, most: int = _MAX_DIGITS + 2) -> bool:
    return _MIN_DIGITS <= sum(map(str.isdigit, text[start:end])) <= most


@lru_cache(maxsize=1)
def _national_lengths() -> dict[int, frozenset[int]]:
    """Possible national-number lengths per country calling code, from ``phonenumbers``' metadata.

    Those of the code's main region (the US for +1, the UK for +44), so that "+1" followed by
    seven digits is not taken for a North American number.
    """
    lengths: dict[int, frozenset[int]] = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        metadata = (
            phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code)
            if regions[0] == "001"
            else phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
        )
        if metadata is not None and metadata.general_desc is not None:
            lengths[code] = frozenset(metadata.general_desc.possible_length or ())
    return lengths


_PHONE_VERDICTS: Final = ("strong", "phone")


def _context_says_phone(verdict: context.PhoneContext, digit_count: int) -> bool:
    """A phone context makes 8+ digits a phone number; seven (a local number, maybe an office's line:
    "Call 555-0134 for the branch") only in a strong one ("call me on 555-0134", "Tel: 555-0134")."""
    return verdict == "strong" or (verdict == "phone" and digit_count >= 8)


def _international_shape(candidate: str) -> bool:
    """``+`` then an existing country code then as many digits as that country's numbers have.

    The plan may not have assigned the number ("+1 555 010 4477", "+44 7700 900999"), but nothing
    else is written that way.
    """
    digits = _NON_DIGITS.sub("", _TRUNK_IN_BRACKETS.sub("", candidate))
    table = _national_lengths()
    for width in (1, 2, 3):
        lengths = table.get(int(digits[:width]))
        if lengths is not None:
            rest = digits[width:]
            # "+44 07700 900999": the trunk 0 typed after the country code.
            return len(rest) in lengths or (rest.startswith("0") and len(rest) - 1 in lengths)
    return False


def _has_country_code(candidate: str) -> bool:
    """``+`` then an existing country code and at least two more digits."""
    digits = _NON_DIGITS.sub("", candidate)
    table = _national_lengths()
    return any(int(digits[:width]) in table and len(digits) - width >= 2 for width in (1, 2, 3))


class PhoneFinder:
    """Phone numbers in international and national formats, validated with ``phonenumbers``."""

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = tuple(regions)
        # phonenumbers compiles its metadata patterns through the re module's cache (512 entries);
        # numbers from many regions keep pushing them out and recompiling them. Keep them instead.
        phonenumbers.enable_pattern_cache()
        # The validity rules (``_region_rules``, ``_national_rules``: about 0.15 s of regex compiling) are
        # compiled at the first number that needs them, not here: every process that logs builds the
        # default engine for its log filter, and most of them (a CLI command, a test's subprocess) never
        # validate a phone number. ``warm`` compiles them ahead, for a benchmark's timed pass.

    def warm(self) -> None:
        """Compile the validity rules now: the regions' own, merged, and those sharing their country codes."""
        for region in self.regions:
            code = phonenumbers.country_code_for_region(region)
            for other in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, (region,)):
                _region_rules(other)
        _region_filters(self.regions)
        _national_rules(self.regions)
        _short_national_lengths()

    def valid(self, candidate: str) -> bool:
        return _phone_valid(candidate, self.regions)

    def find(self, text: str, taken: Iterable[Span], shaped: list[Span] | None = None) -> list[Span]:
        """Phone numbers outside ``taken`` (spans already claimed) and outside dates, amounts...

        Both confidences are returned: numbers the numbering plan accepts, and phone-shaped numbers
        it rejects but that stand in a phone context or carry a ``+`` and country code. The latter
        are also added to ``shaped`` (when given): masked, never an identifier.
        """
        spans: list[Span] = []
        claimed = sorted(taken)
        gates: _BlockerGates | None = None  # built at the first candidate that needs it
        for match in chain(_PHONE_CAND.finditer(text), _PHONE_ONE_BY_ONE.finditer(text) if text.count(", ") >= 6 else ()):
            start, end = match.span()
            if _DATES.fullmatch(text, start, end) is not None:
                continue  # the commonest candidate that is not a phone number: a date
            if start and text[start - 1] == "." and context.phone_context_before(text, start) not in _PHONE_VERDICTS:
                continue  # glued to a word by a dot ("file.0612...") unless the word is a phone label
            # Blockers that matter overlap the candidate: look for them around it only.
            if gates is None:
                gates = _BlockerGates(text)
            blockers = _blockers_in(text, max(0, start - 16), min(len(text), end + 16), gates)
            if blockers and text[start] == "+" and _international_shape(text[start:end]):
                # "+687 21.12.34" (New Caledonia writes its numbers with dots): after "+" and a country
                # code, "21.12.34" is the rest of the number, not a date.
                blockers = [(s, e) for s, e in blockers if s < start or e > end]
            excluded = sorted(claimed + blockers) if blockers else claimed
            for piece_start, piece_end in _subtract(start, end, excluded):
                tight = _tighten(text, piece_start, piece_end)
                if tight is not None:
                    for span_start, span_end, validated in self._check(text, *tight):
                        spans.append((span_start, span_end))
                        if not validated and shaped is not None:
                            shaped.append((span_start, span_end))
        return spans

    def _check(self, text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
        candidate = text[start:end]
        digit_count = sum(map(str.isdigit, candidate))  # counted in C: this runs for every candidate
        if digit_count < _MIN_DIGITS:
            return []
        # The nearest meaningful word decides: "order #4811..." is a reference, "Phone #: ..." is not.
        if context.reference_before(text, start):
            return []
        if digit_count <= _MAX_DIGITS + 2 and self._accept(text, start, end):
            return [(start, end, True)]
        # Two numbers run together, or a number and a stray digit ("0161 496 0000  9"): the pieces
        # between strong separators first, the whole run as one phone-shaped number only after. Not
        # a number read back one digit at a time ("1 - 2 - 0 - 1 - ..."): its separators are all alike.
        # Nor one whose groups are all set apart alike ("+353  1807  123  456"): double spaces there are
        # the writer's grouping, and cutting would leave the tail in clear. (The digit count first: cheapest.)
        pieces = (
            self._split(text, start, end)
            if digit_count > 10
            and _ONE_BY_ONE.fullmatch(candidate) is None
            and not (digit_count <= _MAX_DIGITS and len(set(_NON_DIGITS.findall(candidate.lstrip(" (+")))) == 1)
            else []
        )
        if pieces:
            return pieces
        # "0091 1866 ...": the international prefix 00 is not part of the number's 15 digits at most.
        if digit_count - _exit_code_digits(candidate) <= _MAX_DIGITS and self._shape_only(text, start, end):
            return [(start, end, False)]
        return []

    def _shape_only(self, text: str, start: int, end: int) -> bool:
        """Phone-shaped digits the plan rejects, in a phone context or written ``+`` and country code."""
        candidate = text[start:end].lstrip(" (")
        groups = _GROUP.findall(candidate)
        verdict = context.phone_context(text, start, end)
        grouped_from_four = len(groups) > 1 and len(groups[0]) == 4 and groups[0][0] != "0"
        if not candidate.startswith("+") and grouped_from_four and verdict != "strong":
            # Grouped from four like "2105 6548 11": an account, unless given as the writer's own
            # line ("whatsapp me: 2234 5678", "landline 1900.123.458").
            return False
        if verdict != "none":
            return _context_says_phone(verdict, sum(len(group) for group in groups))
        # "+1.234.567" is a change in a quantity, not a number to call.
        return candidate.startswith("+") and _THOUSANDS.fullmatch(candidate, 1) is None and _international_shape(candidate)

    def _accept(self, text: str, start: int, end: int) -> bool:
        candidate = text[start:end]
        international = candidate.lstrip(" (").startswith("+") or candidate.startswith("00")
        if not international and not self._national_shape(text, start, candidate):
            return False
        # Dots only: "06.12.34.56.78" or "202.555.0143", never "10.4.12.1234".
        if "." in candidate and _dots_only(candidate) and sum(map(str.isdigit, candidate)) < 10:
            return False
        return _phone_valid(candidate, self.regions)

    @staticmethod
    def _national_shape(text: str, start: int, candidate: str) -> bool:
        """Written like a national phone number, not like an SSN, an extension or a reference."""
        if _SSN_SHAPE.fullmatch(candidate):
            return False
        groups = _GROUP.findall(candidate)
        digit_count = 0
        for group in groups:
            digit_count += len(group)
        if groups[0][0] == "0":
            # With its trunk 0 ("0161 496 0000", "06 12 34 56 78"): at least 8 digits.
            return digit_count >= 8
        # Without one ("612 34 56 78", "(202) 555-0143", "98765 43210"): 9 digits or more, not
        # grouped from four like "2023-45988" or "2105 6548 11", and bare runs only after a
        # word like "call" or "Telefon".
        if digit_count < 9:
            return False
        if len(groups) == 1:
            if any(map(context.phone_word, words_before(text, start, 5))):
                return True
            # The number is the whole message or a caller's whole turn ("07912..." answers "what's
            # your number?"), or an extension follows it.
            end = start + len(candidate)
            whole_message = not text[:start].strip(_MESSAGE_PUNCTUATION) and not text[end:].strip(_MESSAGE_PUNCTUATION)
            return whole_message or _whole_turn(text, start, end) or _EXTENSION_AFTER.match(text, end) is not None
        return len(groups[0]) != 4

    def _split(self, text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
        """Numbers run together ("0161 496 0000 / 020 7946 0958"): cut at the strong separators only."""
        spans: list[tuple[int, int, bool]] = []
        cursor = start
        for boundary in [*_STRONG_SEPARATOR.finditer(text, start, end), None]:
            piece_end = boundary.start() if boundary is not None else end
            if boundary is not None and _COUNTRY_CODE_ONLY.fullmatch(text, cursor, piece_end):
                continue  # "+82  10-1234-5678": a country code is never a number of its own
            tight = _tighten(text, cursor, piece_end)
            if tight is not None and _count_ok(text, *tight):
                if self._accept(text, *tight):
                    spans.append((*tight, True))
                elif _count_ok(text, tight[0], tight[1], _MAX_DIGITS) and self._shape_only(text, *tight):
                    spans.append((*tight, False))
            if boundary is not None:
                cursor = boundary.end()
        return spans


# Words a short number needs before it (read back, dictated, or given as a phone number), as
# fragments of the lower-cased text: without one, the short-number scans below do not run.
# The words, alternatives grouped by first letter ("mobil" holds "mob"): sre tries a handful, not
# forty-five, at each letter that may start one; the same texts pass (tests/unit/pii/test_phone_fast_paths.py).
_SHORT_NUMBER_GATE: Final = re.compile(
    r"r(?:e(?:ad|p|ach)|ép|i(?:ng|pet))|c(?:onfirm|all|ell|hiam|ontact)|w(?:iederhol|hatsapp)|h(?:erhaal|andy)"
    r"|b(?:evestig|el)|a(?:punt|not)|n(?:ot(?:ez|ier|eer)|um(?:ber|mer|[eé]ro)|úmero)|segna|jo(?:t|indre)"
    r"|p(?:hone|ortable)|t(?:el|ext)|m(?:ob|[oó]vil)|l(?:andline|lam|ig)|fax|gsm|φ"
)
# Five or six written digits ("12345", "21 345", "12-345"): a small country's whole number.
_SHORT_WRITTEN: Final = re.compile(r"\d(?<![\w,+\-/.:][\s\S])(?:[ \-.]?\d){4,5}(?![\w]|[ \-./:,]?\d)")
# A "+", a country code and too few digits for a phone candidate ("Phone: +98  9604"): a number
# mistyped or cut short, still the writer's line when a strong phone cue gives it.
# "+" first, its lookbehind after it: the scan looks for the "+" alone.
_SHORT_PLUS: Final = re.compile(r"\+(?<![\w+][\s\S])\d(?:[ \u00a0\-.]{0,2}\d){3,5}(?![\w]|[ \-./:,]?\d)")


@lru_cache(maxsize=1)
def _short_national_lengths() -> frozenset[int]:
    """National-number lengths under seven that some region's plan has (Niue 4, Falklands 5, Saint Helena 5...)."""
    return frozenset(
        length
        for region in phonenumbers.SUPPORTED_REGIONS
        if (metadata := phonenumbers.PhoneMetadata.metadata_for_region(region)) is not None
        and metadata.general_desc is not None
        for length in (metadata.general_desc.possible_length or ())
        if length < _MIN_DIGITS
    )


def _overlaps_any(start: int, end: int, spans: list[Span]) -> bool:
    for span_start, span_end in spans:  # noqa: SIM110 (a plain loop: compiled with mypyc it needs no generator)
        if span_start < end and start < span_end:
            return True
    return False


# A currency named in words, whole (any case, plural too): "12345 EUR", "Rs. 12345", "22 345 dollars".
_AMOUNT_WORD: Final = re.compile(
    r"(?i)(?<![^\W\d_])(?:eur|euros?|usd|gbp|chf|aud|brl|inr|cad|rs|dollars?|pounds?|reais|rupees?|francs?|cents?)"
    r"(?![^\W\d_])"
)


def _amount_next_to(text: str, start: int, end: int) -> bool:
    """A currency symbol or word within a few characters of ``text[start:end]``: an amount, not a number to call.

    Words are matched whole over the whole text, then kept when they reach into the window: a window cut
    out of "first" or "centre" ("rs", "cent") is no currency, and such words used to keep "my number is
    22345, yours?" in clear.
    """
    low, high = max(0, start - 4), min(len(text), end + 5)
    if not _CURRENCY_SYMBOLS.isdisjoint(text[low:high]):
        return True
    for match in _AMOUNT_WORD.finditer(text):  # noqa: SIM110 (a plain loop: mypyc compiles it, not a generator)
        if match.start() < high and match.end() > low:
            return True
    return False


def find_short_numbers(text: str, lowered: str, taken: Iterable[Span]) -> list[Span]:
    """Five or six digits that are a small country's phone number (Niue, Saint Helena, the Falklands).

    Read back one digit at a time after "let me read that back", "le repito"...; or written after a
    strong phone cue ("call me on 22 345", "my number is 12345", "Phone: 23456"), in a length some
    region's plan has. Too short for a phone candidate of their own, they are looked for only when
    the message holds a cue word, and the words before are read only for a run that fits. Masked,
    never an identifier: the plan cannot validate them without a country.
    """
    if _SHORT_NUMBER_GATE.search(lowered) is None:
        return []
    claimed = list(taken)
    spans: list[Span] = []
    plus = _SHORT_PLUS.finditer(text) if "+" in text else ()
    for match in chain(_SHORT_ONE_BY_ONE.finditer(text), _SHORT_WRITTEN.finditer(text), plus):
        start, end = match.span()
        pattern = match.re
        # The cheap checks first: the digit count, then what is already taken, then the words before.
        # (The lengths read every region's metadata the first time: only once a written run needs them.)
        if pattern is _SHORT_WRITTEN and sum(map(str.isdigit, text[start:end])) not in _short_national_lengths():
            continue
        if _overlaps_any(start, end, claimed):
            continue
        if pattern is _SHORT_ONE_BY_ONE:
            if not context.read_back_before(text, start):
                continue
        elif pattern is _SHORT_PLUS:
            if not _has_country_code(text[start:end]) or context.phone_context_before(text, start) != "strong":
                continue
        elif context.phone_context_before(text, start) != "strong":
            continue
        if _amount_next_to(text, start, end):
            continue  # "read that back: 1 2 3 4 5 EUR", "call me on 12345 $": an amount
        spans.append((start, end))
        claimed.append((start, end))
    return spans


# --------------------------------------------------------------------------------------------
# Numbers read out loud ("four one one one ...", "oh seven seven double oh ...")
# --------------------------------------------------------------------------------------------

Typed = tuple[int, int, str, bool]  # (start, end, "PHONE" | "CREDIT_CARD" | "US_SSN", validated)
# The start of a speaker's turn in a transcript ("caller:", "appelant :", "Kunde:") and the
# hesitations a speaker opens with ("so it's", "alors c'est", "pues es", "also", "allora è").
_HESITATIONS: Final = (
    r"so|well|um+|uh+|erm|er|yeah|yes|ok|okay|right|sure|it'?s|it is|that'?s|alors|bon|euh|oui|c'est|ben|voilà"
    r"|pues|bueno|vale|sí|si|es|eh|also|ja|äh|ähm|das ist|es ist|allora|ecco|è|dunque|nou|het is|dat is|então|é|pois"
)
_TURN_OPENING: Final = re.compile(
    rf"(?i)(?:^|\n)[ \t]*[^\W\d_]{{2,15}}[ \t]?:[ \t]*(?:(?:{_HESITATIONS})[ \t]*[,.…]*[ \t]*)*$"
)
_TURN_REACH: Final = 60


def _whole_turn(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is all a speaker said in a turn, after the speaker's label and a hesitation."""
    rest = text[end:]
    turn_ends = not rest.strip(_MESSAGE_PUNCTUATION) or rest.lstrip(_MESSAGE_PUNCTUATION).startswith("\n")
    return turn_ends and _TURN_OPENING.search(text, max(0, start - _TURN_REACH), start) is not None
_CARD_LENGTHS: Final = (19, 18, 17, 16, 15, 14, 13)
# A speaker's label earlier on the same line ("caller:", "Anrufer:", "cliente:"), with anything after it.
_TURN_LABEL: Final = re.compile(r"(?:^|\n)[ \t]*[^\W\d_]{2,15}[ \t]?:[^\n]*$")


def _in_a_turn(text: str, start: int) -> bool:
    """``start`` lies in a speaker's turn of a transcript: what a caller says "the number is" is the caller's."""
    return _TURN_LABEL.search(text, max(0, start - _TURN_REACH), start) is not None


_WORD: Final = re.compile(r"[^\W\d_]+")


def _answers_an_unseen_question(text: str, start: int, end: int) -> bool:
    """Six digits dictated as all of a caller's turn ("appelant : alors c'est neuf sept un un deux
    trois"), in a message that names no reference, PIN or code before it: a small country's number
    given in answer to "and your number?", as seven or more are (a PIN asked for is named in the
    agent's turn; a five-digit answer is more often a postcode, and is left alone)."""
    if not _whole_turn(text, start, end):
        return False
    return context.REFERENCE_WORDS.isdisjoint(word.lower() for word in _WORD.findall(text, 0, start))


def find_spoken(text: str, phones: PhoneFinder) -> list[Typed]:
    """Cards, SSNs and phone numbers said as words, judged by the rules written ones pass.

    A spoken card is a Luhn-valid number of a known network (its first 13-19 digits, when the
    expiry date follows in the same breath); a spoken SSN needs the SSN rules and a word like
    "social security" before it; a spoken phone number is one the plan validates, or a phone-shaped
    one in a phone context or said with "plus" and a country code. Nothing introduced as an order,
    ticket or reference number is taken.
    """
    found: list[Typed] = []
    for number in spoken.find_spoken_numbers(text, _FEWEST_SPOKEN_DIGITS):
        digits = number.digits
        # The eight words before the number, read once for every rule below that reads them.
        words = words_before(text, number.start, 8)
        before = context.phone_context_of(text, number.start, words)
        # context.reference_before(text, number.start, before), on the words already read.
        if before not in ("strong", "phone") and context.reference_in(words[:4]):
            continue
        verdict = before if before != "none" else context.phone_context_after(text, number.end)
        if verdict == "reference":
            verdict = "none"  # "send the invoice to oh seven ...": a reference word, but not naming this number
        if len(digits) < _MIN_DIGITS:
            # Said as the speaker's own line ("my number is two double one, two three", "call me back
            # on two two, nine two, three four"), or as "the number is ..." in a caller's own turn
            # ("Anrufer: also die Nummer ist sechs zwei acht drei neun"): a short number (a small
            # country's, an extension) is still one; without such words five spoken digits are
            # anything, and four are a phone number only dictated or read back ("apunte, ocho nueve ...").
            if len(digits) < _MIN_SPOKEN_DIGITS:
                if context.read_back_in(words):
                    found.append((number.start, number.end, "PHONE", False))
            elif (
                verdict == "strong"
                or (verdict == "phone" and _in_a_turn(text, number.start))
                or (verdict == "none" and len(digits) == 6 and _answers_an_unseen_question(text, number.start, number.end))
            ):
                found.append((number.start, number.end, "PHONE", False))
            continue
        # Said with "plus" and a country code: a phone number, never a card.
        card: Span | None = None
        if not number.plus:
            for length in _CARD_LENGTHS:
                if len(digits) >= length and validators.credit_card_ok(digits[:length]):
                    card = number.prefix(length)
                    if card is not None:
                        break
        if card is None and not number.plus and len(digits) == 12 and validators.credit_card_ok(digits):
            card = (number.start, number.end)  # a 12-digit Maestro, said whole (never the start of a longer run)
        if card is None and not number.plus and _unlisted_card(text, number.start, number.end, digits):
            card = (number.start, number.end)
        if card is not None:
            found.append((*card, "CREDIT_CARD", True))
            continue
        if len(digits) == 9 and validators.us_ssn_ok(digits) and _ssn_words(words):
            found.append((number.start, number.end, "US_SSN", True))
            continue
        if len(digits) > _MAX_DIGITS:
            continue
        written = ("+" if number.plus else "") + digits
        # Like written digits: a national number needs its trunk 0, a phone word, or the whole message.
        whole = not text[: number.start].strip(_MESSAGE_PUNCTUATION) and not text[number.end :].strip(_MESSAGE_PUNCTUATION)
        if verdict == "none" and _whole_turn(text, number.start, number.end):
            # A caller's turn that is nothing but seven or more dictated digits answers "and your
            # number?" (an order or ticket number comes with its word: "order one two three ...").
            verdict = "strong"
        shaped_nationally = number.plus or (digits[0] == "0" and len(digits) >= 8) or verdict != "none" or whole
        if shaped_nationally and phones.valid(written):
            found.append((number.start, number.end, "PHONE", True))
        elif (
            _context_says_phone(verdict, len(digits))
            or (verdict == "none" and number.plus and _international_shape(written))
            # Seven digits after "the number is" in a caller's turn, as five or six are (above).
            or (verdict == "phone" and len(digits) == _MIN_DIGITS and _in_a_turn(text, number.start))
        ):
            found.append((number.start, number.end, "PHONE", False))
    return found
