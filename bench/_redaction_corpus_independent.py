"""The second, independent redaction corpus: phone numbers from the numbering plan's own examples,
people from Faker, in message templates written for this corpus and for no engine.

Built differently from ``bench/_redaction_corpus.py`` on purpose (it shares no generator, template or
word list with it), so that an engine tuned on that corpus meets data here that nobody shaped for it:

* PHONE: every example number ``phonenumbers`` ships (``example_number_for_type`` over
  ``SUPPORTED_REGIONS`` and every ``PhoneNumberType``: mobile, fixed, toll-free, premium, VoIP,
  pager, UAN...), used as is or mutated: one digit off, a fictional range (NANP 555-01xx, Ofcom's
  drama ranges, ARCEP's fiction ranges, ACMA's and the Bundesnetzagentur's film numbers) or an
  unassigned area code (NANP N9X, elsewhere a leading pair the plan rejects). Half the time the
  region is the conversation's own, otherwise any of the 245. Written in the library's NATIONAL,
  INTERNATIONAL and E164 forms and variants of them (no separators, dots, dashes, parentheses,
  slash, ``00`` prefix, non-breaking or double spaces, full-width digits), read back digit by digit,
  or spoken as words ("oh seven seven double oh ...", "zéro six ...", "null eins ...", "cero seis ...").
  Any of these in a phone context is labelled PHONE, whether the plan accepts the digits or not: a
  mistyped or fictional-looking number someone gave as theirs is still theirs. National forms with
  fewer than 7 digits are not generated (nothing tells them from an order number); such numbers
  appear only with their country code.
* EMAIL: Faker's addresses (free-mail, company, any domain) across locales, typed, bracketed,
  obfuscated ("[at]", "(at)", " at ... dot ") or spoken.
* CREDIT_CARD: Faker's ``credit_card_number`` for every card type it knows (Visa 13/16/19, Mastercard,
  Amex, Discover, Diners, JCB, Maestro), compact, grouped, read back or spoken.
* IBAN: Faker's ``iban`` of the conversation's locale; IP_ADDRESS: ``ipv4_public``,
  ``ipv4_private``, ``ipv6``, with ports or in URLs; US_SSN: en_US ``ssn``, dashed, spaced, bare
  after "SSN", spoken.
* SUBJECT: each conversation has a data subject (a Faker person of its locale, with an email and a
  valid phone given to the engine as the known subject); their name, email and phone as written in
  the conversation are labelled SUBJECT.

Faker's names of other people and its street addresses are in the text unlabelled: the engine has
no type for them, and their house numbers and postcodes are digits a phone rule must leave alone.
Hard negatives, labelled as nothing: order, ticket and invoice numbers (some spoken as words),
dates, times, amounts in local styles, versions (some four-part, IP-like), postcodes, tracking
numbers (UPS, DHL, USPS, Royal Mail, FedEx), the last digits of a card or an account.

Messages are chat lines, emails (multi-line, with signatures), speech-to-text transcripts and an
agent reading a value back, in English, German, French, Spanish, Japanese and Chinese (values glued
to the text without spaces), from 34 Faker locales.

The phone numbers are made in ``bench/_independent_phones.py``, the templates are in
``bench/_independent_templates.py``; this module draws the people and the other values and puts
messages together.

Deterministic for a seed (and a Faker version: its data files are part of the corpus). Conversation
``k`` is generated from its own ``random.Random(f"{seed}/{k}")``, so a shorter corpus is a prefix of a
longer one.

**Split** (fixed, independent of the seed and of the content): conversation ``k`` is in the *test*
half when ``zlib.crc32(f"conversation {k}".encode()) % 2 == 1``, else in the *dev* half. Every message
of a conversation is in its half. The benchmark reports on the test half only; the dev half is the
one anyone may read, print errors from and tune against. Do not look at test-half messages when
changing the engine.
"""

from __future__ import annotations

import random
import re
import string
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from string import Formatter
from typing import Any

import phonenumbers
from faker import Faker
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from bench._independent_phones import (
    DIGIT_WORDS,
    FICTIONAL_REGIONS,
    INTERNATIONAL_ONLY,
    WRITTEN_STYLES,
    example_numbers,
    make_number,
    mutate,
    national_digit_count,
    random_digits,
    read_back,
    speak_digits,
    speak_groups,
    speak_phone,
    write_phone,
)
from bench._independent_templates import KIND_WEIGHTS, LOCALE_LANGUAGE, SLOT_TYPES, TEMPLATES

NAME = "independent"
DEFAULT_SEED = 20261130

LOCALES = (
    "en_US", "en_GB", "en_AU", "en_IN", "en_IE", "en_CA", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CA",
    "es_ES", "es_MX", "it_IT", "nl_NL", "nl_BE", "pt_PT", "pt_BR", "pl_PL", "sv_SE", "da_DK", "no_NO",
    "fi_FI", "cs_CZ", "hu_HU", "ro_RO", "tr_TR", "el_GR", "ru_RU", "uk_UA", "ja_JP", "zh_CN", "ko_KR", "hi_IN",
)
# Locales whose people write the family name first.
FAMILY_FIRST = {"ja_JP", "zh_CN", "ko_KR", "hu_HU"}
IBAN_LENGTHS = {"GB": 22, "IE": 22, "DE": 22, "AT": 20, "CH": 21, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "BE": 16,
                "PT": 25, "BR": 29, "PL": 28, "DK": 18, "NO": 15, "FI": 18, "CZ": 24, "RO": 24, "TR": 26, "GR": 27,
                "RU": 33, "UA": 29, "SE": 24, "HU": 28}
CARD_TYPES = ("visa16", "visa16", "mastercard", "mastercard", "amex", "discover", "diners", "jcb16", "jcb15",
              "visa13", "visa19", "maestro")


@dataclass
class LabelledMessage:
    """One message; ``entities`` are exact ``(TYPE, start, end)`` spans, ``tags`` say how each was made."""

    text: str
    language: str
    kind: str
    conversation: int
    half: str
    entities: list[tuple[str, int, int]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    subject: dict[str, list[str]] = field(default_factory=dict)


def half_of(conversation: int) -> str:
    """The split rule (module docstring): fixed, seed-free, by conversation number."""
    return "test" if zlib.crc32(f"conversation {conversation}".encode()) % 2 == 1 else "dev"


def faker_version() -> str:
    return version("faker")


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _language(locale: str) -> str:
    return LOCALE_LANGUAGE.get(locale[:2], "en")


# ------------------------------------------------------------------------------------------------
# One conversation: a locale, a data subject, and the messages
# ------------------------------------------------------------------------------------------------


class Conversation:
    def __init__(self, seed: int, number: int) -> None:
        self.number = number
        self.rng = random.Random(f"{seed}/{number}")
        self.locale = self.rng.choice(LOCALES)
        self.language = _language(self.locale)
        self.fake = _faker(self.locale)
        self.fake.seed_instance(self.rng.getrandbits(64))
        self.us = _faker("en_US")
        self.us.seed_instance(self.rng.getrandbits(64))
        self.region = self.locale.split("_")[1]
        first, last = self.fake.first_name(), self.fake.last_name()
        self.name = f"{last} {first}" if self.locale in FAMILY_FIRST else f"{first} {last}"
        self.first, self.last = first, last
        self.email = self.fake.free_email() if self.rng.random() < 0.5 else self.fake.email()
        region = self.region if self.region in phonenumbers.SUPPORTED_REGIONS else "US"
        phone = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) or \
            phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
        assert phone is not None
        self.phone = phone
        self.subject_key = (phone.country_code, phonenumbers.national_significant_number(phone))
        self.known = {"names": [self.name], "emails": [self.email],
                      "phones": [phonenumbers.format_number(phone, PhoneNumberFormat.E164)]}

    # -- values --------------------------------------------------------------------------------
    def pick_phone(self) -> tuple[str, PhoneNumber]:
        rng = self.rng
        pool: Sequence[tuple[str, str, PhoneNumber]] = example_numbers()
        own = [entry for entry in pool if entry[0] == self.region]
        forced = None
        if rng.random() < 0.12:  # the regions with fictional ranges, whatever the conversation's locale
            pool, forced = [entry for entry in pool if entry[0] in FICTIONAL_REGIONS], "fictional"
        elif own and rng.random() < 0.5:
            pool = own
        region, type_name, example = rng.choice(pool)
        how, number = mutate(region, example, rng, forced)
        if (number.country_code, phonenumbers.national_significant_number(number)) == self.subject_key:
            # The subject's own number is labelled SUBJECT where the subject slots put it, never PHONE.
            nsn = phonenumbers.national_significant_number(number)
            assert number.country_code is not None  # as self.subject_key's, which it equals
            how, number = "digit_off", make_number(number.country_code, nsn[:-1] + str((int(nsn[-1]) + 1) % 10))
        return f"{region}/{type_name}/{how}", number

    def phone_value(self, slot: str) -> tuple[str, str]:
        rng = self.rng
        tag, number = self.pick_phone()
        if slot == "phone_fullwidth":
            return write_phone(number, "fullwidth"), f"{tag}/fullwidth"
        if slot == "phone_spoken":
            language = self.language if self.language in DIGIT_WORDS else "en"
            return speak_phone(number, language, rng), f"{tag}/spoken_{language}"
        if slot == "phone_readback":
            digits = re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
            return read_back(digits, rng), f"{tag}/readback"
        styles = WRITTEN_STYLES if national_digit_count(number) >= 7 else INTERNATIONAL_ONLY
        style = rng.choice(styles)
        return write_phone(number, style), f"{tag}/{style}"

    def iban(self) -> str:
        """Faker's IBAN of the locale; its fallback for locales without one is sometimes a character
        short for GB, which is no IBAN at all, so only lengths ISO 13616 gives are kept."""
        for source in (self.fake, self.fake, self.fake, _faker("en_GB")):
            iban = source.iban()
            if IBAN_LENGTHS.get(iban[:2]) == len(iban):
                return iban
        raise AssertionError("en_GB's Faker gave an IBAN of the wrong length")

    def card(self, slot: str) -> tuple[str, str]:
        rng = self.rng
        card_type = rng.choice(CARD_TYPES)
        digits = self.us.credit_card_number(card_type=card_type)
        if slot == "card_spoken":
            return speak_groups(re.findall(r"\d{1,4}", digits), "en", rng), f"{card_type}/spoken"
        if slot == "card_readback":
            return read_back(digits, rng), f"{card_type}/readback"
        style = rng.choice(["compact", "spaces", "dashes", "grouped_amex" if len(digits) == 15 else "spaces"])
        if style == "compact":
            return digits, f"{card_type}/compact"
        if style == "grouped_amex":
            return f"{digits[:4]} {digits[4:10]} {digits[10:]}", f"{card_type}/{style}"
        separator = " " if style == "spaces" else "-"
        return separator.join(re.findall(r"\d{1,4}", digits)), f"{card_type}/{style}"

    def email_value(self, slot: str) -> tuple[str, str]:
        rng = self.rng
        address = rng.choice([self.fake.email, self.fake.free_email, self.fake.company_email, self.us.email])()
        local, _, domain = address.partition("@")
        if slot == "email_spoken":
            spoken_domain = " dot ".join(domain.split("."))
            return f"{' dot '.join(local.split('.'))} at {spoken_domain}", "spoken"
        style = rng.choices(["plain", "brackets", "parens", "words", "spaced", "upper"], weights=(10, 2, 2, 2, 1, 1))[0]
        if style == "brackets":
            return f"{local} [at] {domain.replace('.', ' [dot] ')}", style
        if style == "parens":
            return f"{local}(at){domain}", style
        if style == "words":
            return f"{local} at {domain.replace('.', ' dot ')}", style
        if style == "spaced":
            return f"{local} @ {domain}", style
        if style == "upper":
            return address.upper(), style
        return address, style

    def subject_value(self, slot: str) -> tuple[str, str]:
        rng = self.rng
        if slot == "subject_email":
            return (self.email.upper(), "email_upper") if rng.random() < 0.3 else (self.email, "email")
        if slot == "subject_phone":
            style = rng.choice(("national", "international", "e164", "dots", "national_compact"))
            return write_phone(self.phone, style), f"phone_{style}"
        style = rng.choice(("as_given", "as_given", "upper", "family_comma"))
        if style == "upper":
            return self.name.upper(), style
        if style == "family_comma" and self.locale not in FAMILY_FIRST:
            return f"{self.last}, {self.first}", style
        return self.name, "as_given"

    def negative(self, slot: str) -> str:
        rng, fake = self.rng, self.fake
        if slot == "order":
            return rng.choice([
                f"#{random_digits(rng, rng.randint(6, 10))}",
                f"ORD-{random_digits(rng, 8)}",
                "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + random_digits(rng, 9),
                f"{random_digits(rng, 3)}-{random_digits(rng, 7)}-{random_digits(rng, 4)}",
                random_digits(rng, 10).lstrip("0"),
            ])
        if slot == "order_spoken":
            return speak_digits(random_digits(rng, rng.randint(5, 8)), "en", rng)
        if slot == "ticket":
            return rng.choice([f"INC{random_digits(rng, 7)}", f"CS-{rng.randint(2019, 2026)}-{random_digits(rng, 6)}",
                               f"#{random_digits(rng, 6)}", f"SR {random_digits(rng, 4)} {random_digits(rng, 4)}"])
        if slot == "invoice":
            return rng.choice([f"INV-{rng.randint(2019, 2026)}-{random_digits(rng, 5)}", f"F{random_digits(rng, 9)}",
                               f"{random_digits(rng, 4)}/{rng.randint(2019, 2026)}"])
        if slot == "date":
            day = fake.date_between("-3y", "+1y")
            patterns = {"en": ["%B %d, %Y", "%m/%d/%Y", "%Y-%m-%d", "%d %b %Y"], "de": ["%d.%m.%Y"],
                        "fr": ["%d/%m/%Y"], "es": ["%d/%m/%Y", "%d-%m-%Y"], "ja": ["%Y年%m月%d日"], "zh": ["%Y年%m月%d日"]}
            return day.strftime(rng.choice(patterns[self.language]))
        if slot == "time":
            hour, minute = rng.randrange(24), rng.randrange(60)
            return rng.choice([f"{hour:02d}:{minute:02d}", f"{hour % 12 or 12}:{minute:02d} {'pm' if hour >= 12 else 'am'}",
                               f"{hour}h{minute:02d}", f"{hour:02d}:{minute:02d}:{rng.randrange(60):02d}"])
        if slot == "amount":
            whole, cents = rng.randint(1, 250_000), rng.randrange(100)
            grouped = f"{whole:,}"
            return rng.choice([f"${grouped}.{cents:02d}", f"€ {whole},{cents:02d}", f"{grouped.replace(',', '.')},{cents:02d} €",
                               f"£{whole}.{cents:02d}", f"¥{grouped}", f"{grouped.replace(',', ' ')},{cents:02d} zł",
                               f"CHF {whole}.{cents:02d}", f"{whole} USD"])
        if slot == "version":
            parts = [str(rng.randint(0, 30)) for _ in range(rng.choice([2, 3, 3, 4]))]
            # A bare four-part version is an IPv4 address to anyone: those carry a word saying what they are.
            prefixes = ["v", "build ", "version "] if len(parts) == 4 else ["v", "", "build ", "iOS "]
            return rng.choice(prefixes) + ".".join(parts)
        if slot == "postcode":
            return fake.postcode()
        if slot == "tracking":
            return rng.choice([
                "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                "JJD" + random_digits(rng, 18),
                " ".join(re.findall(r"\d{1,4}", "9400" + random_digits(rng, 18))),
                "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + random_digits(rng, 9) + "GB",
                random_digits(rng, 12),
            ])
        if slot == "card_tail" or slot == "iban_tail":
            return random_digits(rng, 4)
        if slot == "card_masked":  # what a receipt prints: the issuer's digits and the last four
            digits = self.us.credit_card_number(card_type=rng.choice(CARD_TYPES))
            return rng.choice([f"{digits[:4]} **** **** {digits[-4:]}", f"{digits[:6]}******{digits[-4:]}",
                               f"XXXX-XXXX-XXXX-{digits[-4:]}"])
        if slot == "iban_masked":
            iban = self.iban()
            return f"{iban[:4]} **** **** {iban[-4:]}" if rng.random() < 0.5 else f"{iban[:2]}** ... {iban[-6:]}"
        if slot == "address":
            return fake.address().replace("\n", ", ")
        if slot == "other_name":
            return fake.name()
        raise KeyError(slot)

    def fill(self, slot: str) -> tuple[str, str | None, str]:
        """(text, TYPE or None, tag)."""
        rng = self.rng
        label = SLOT_TYPES.get(slot)
        if slot.startswith("phone"):
            text, tag = self.phone_value(slot)
            return text, label, tag
        if slot.startswith("card"):
            if slot in ("card_tail", "card_masked"):
                return self.negative(slot), None, slot
            text, tag = self.card(slot)
            return text, label, tag
        if slot.startswith("email"):
            text, tag = self.email_value(slot)
            return text, label, tag
        if slot.startswith("subject"):
            text, tag = self.subject_value(slot)
            return text, label, tag
        if slot == "iban":
            iban = self.iban()
            if rng.random() < 0.6:
                return " ".join(re.findall(".{1,4}", iban)), label, "grouped"
            return iban, label, "compact"
        if slot == "ip":
            return rng.choice([self.fake.ipv4_public, self.fake.ipv4_private, self.fake.ipv6])(), label, "plain"
        if slot == "ssn":
            ssn = self.us.ssn()
            style = rng.choice(["dashes", "dashes", "spaces", "compact"])
            return {"dashes": ssn, "spaces": ssn.replace("-", " "), "compact": ssn.replace("-", "")}[style], label, style
        if slot == "ssn_spoken":
            return speak_groups(self.us.ssn().split("-"), "en", rng), label, "spoken"
        if slot == "ssn_readback":
            return read_back(self.us.ssn().replace("-", ""), rng), label, "readback"
        return self.negative(slot), None, slot

    # -- messages ------------------------------------------------------------------------------
    def message(self) -> LabelledMessage:
        rng = self.rng
        templates = TEMPLATES[self.language]
        kinds = [k for k in KIND_WEIGHTS if k in templates]
        kind = rng.choices(kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]
        template = rng.choice(templates[kind])
        message = LabelledMessage(text="", language=self.language, kind=kind, conversation=self.number,
                                  half=half_of(self.number), subject=self.known)
        parts: list[str] = []
        length = 0
        for literal, slot, _, _ in Formatter().parse(template):
            parts.append(literal)
            length += len(literal)
            if slot is None:
                continue
            text, label, tag = self.fill(slot)
            if label is not None:
                message.entities.append((label, length, length + len(text)))
                message.tags.append(tag)
            parts.append(text)
            length += len(text)
            if slot == "ip" and ":" not in text and rng.random() < 0.3:
                port = f":{rng.randint(1, 65535)}"  # the port is not personal data: outside the span
                parts.append(port)
                length += len(port)
        message.text = "".join(parts)
        return message


def generate(count: int, seed: int = DEFAULT_SEED) -> list[LabelledMessage]:
    """``count`` messages of both halves, conversation by conversation (6 to 12 messages each)."""
    out: list[LabelledMessage] = []
    number = 0
    while len(out) < count:
        conversation = Conversation(seed, number)
        for _ in range(conversation.rng.randint(6, 12)):
            out.append(conversation.message())
        number += 1
    return out[:count]


def in_half(messages: list[LabelledMessage], half: str) -> list[LabelledMessage]:
    """The messages of one half ("test" or "dev") of the split."""
    if half not in ("test", "dev"):
        raise ValueError(half)
    return [m for m in messages if m.half == half]


def summary(messages: list[LabelledMessage], seed: int) -> dict[str, Any]:
    from collections import Counter

    return {
        "messages": len(messages),
        "conversations": len({m.conversation for m in messages}),
        "bytes": sum(len(m.text.encode()) for m in messages),
        "seed": seed,
        "faker": faker_version(),
        "phonenumbers": phonenumbers.__version__,
        "example_numbers": len(example_numbers()),
        "by_kind": dict(Counter(m.kind for m in messages)),
        "by_language": dict(Counter(m.language for m in messages)),
        "entities": dict(Counter(t for m in messages for t, _, _ in m.entities)),
        "phone_variants": dict(Counter(tag.split("/")[2] for m in messages for (t, _, _), tag in zip(m.entities, m.tags,
                                                                                                    strict=True)
                                       if t == "PHONE")),
        "phone_styles": dict(Counter(tag.split("/")[3] for m in messages for (t, _, _), tag in zip(m.entities, m.tags,
                                                                                                   strict=True)
                                     if t == "PHONE")),
        "messages_without_entities": sum(1 for m in messages if not m.entities),
    }
