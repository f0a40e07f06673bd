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
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.metadata import version
from string import Formatter
from typing import Any

import phonenumbers
from faker import Faker
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

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


# ------------------------------------------------------------------------------------------------
# Phone numbers: the plan's examples, mutated, in the plan's formats
# ------------------------------------------------------------------------------------------------

PHONE_TYPES = tuple(v for k, v in sorted(vars(PhoneNumberType).items()) if k.isupper())
TYPE_NAMES = {v: k for k, v in vars(PhoneNumberType).items() if k.isupper()}


@lru_cache(maxsize=1)
def example_numbers() -> tuple[tuple[str, str, PhoneNumber], ...]:
    """(region, type name, number) for every example the library ships, once per region and number
    (a region's fixed and mobile example are often one number; regions sharing a plan keep theirs)."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in PHONE_TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            key = (region, example.country_code, phonenumbers.national_significant_number(example))
            if key not in seen:
                seen.add(key)
                out.append((region, TYPE_NAMES[number_type], example))
    return tuple(out)


# Ranges set aside for fiction: NSN prefixes, completed with random digits to the length given.
FICTIONAL = {
    "GB": [(p, 10) for p in ("7700900", "2079460", "1134960", "1144960", "1154960", "1164960", "1174960", "1214960",
                             "1314960", "1414960", "1514960", "1614960", "1914980", "1632960", "3069990", "8081570")],
    "FR": [(p, 9) for p in ("19900", "26191", "35301", "46571", "53649", "63998")],
    "AU": [("491570", 9), ("25550", 9), ("35550", 9), ("75550", 9), ("85550", 9)],
    "DE": [("3023125", 10), ("6990009", 10), ("4066969", 10), ("2214710", 10), ("8999998", 10)],
}

FICTIONAL_REGIONS = ("US", "CA", *FICTIONAL)


def _number(country_code: int, nsn: str) -> PhoneNumber:
    number = PhoneNumber(country_code=country_code, national_number=int(nsn))
    zeros = len(nsn) - len(nsn.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    return number


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def mutate(region: str, example: PhoneNumber, rng: random.Random, how: str | None = None) -> tuple[str, PhoneNumber]:
    """(how, number): the example itself, one digit off, a fictional range or an unassigned area code."""
    code = example.country_code
    nsn = phonenumbers.national_significant_number(example)
    how = how or rng.choices(("example", "digit_off", "fictional", "unassigned_area"), weights=(3, 3, 2, 2))[0]
    if how == "fictional":
        if code == 1 and len(nsn) == 10:
            return how, _number(code, nsn[:3] + "55501" + _digits(rng, 2))
        if region in FICTIONAL:
            prefix, length = rng.choice(FICTIONAL[region])
            return how, _number(code, prefix + _digits(rng, length - len(prefix)))
        how = "digit_off"
    if how == "unassigned_area":
        if code == 1 and len(nsn) == 10:
            return how, _number(code, f"{rng.randint(2, 9)}9{rng.randrange(10)}" + nsn[3:])
        for _ in range(30):
            # A leading 0 only where the plan's numbers have one (elsewhere "00" reads as a dialling prefix).
            lead = "0" if nsn[0] == "0" else rng.choice("123456789")
            candidate = _number(code, lead + _digits(rng, 1) + nsn[2:]) if len(nsn) > 4 else None
            if candidate is not None and not phonenumbers.is_valid_number(candidate) \
                    and phonenumbers.is_possible_number(candidate):
                return how, candidate
        how = "digit_off"
    if how == "digit_off" and len(nsn) > 2:
        position = rng.randrange(1, len(nsn))
        replacement = rng.choice([d for d in string.digits if d != nsn[position]])
        return how, _number(code, nsn[:position] + replacement + nsn[position + 1 :])
    return "example", example


def _chunks(digits: str) -> list[str]:
    """Groups of three, the last of four when three would leave one digit alone."""
    groups = re.findall(r"\d{1,3}", digits)
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2][:2], groups[-2][2:] + groups[-1]]
    return groups


FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789+-()"})  # to U+FF10..
WRITTEN_STYLES = ("national", "international", "e164", "national_compact", "dots", "dashes", "parentheses", "slash",
                  "intl_00", "nbsp", "double_space")
INTERNATIONAL_ONLY = ("international", "e164", "dashes", "intl_00", "nbsp", "double_space")


def write_phone(number: PhoneNumber, style: str) -> str:
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    groups = re.findall(r"\d+", national)
    if len(groups) == 1:
        groups = _chunks(groups[0])
    if style == "national":
        return national
    if style == "international":
        return international
    if style == "e164":
        return e164
    if style == "national_compact":
        return "".join(groups)
    if style == "dots":
        return ".".join(groups)
    if style == "dashes":
        return "+" + "-".join(re.findall(r"\d+", international))
    if style == "parentheses":
        return f"({groups[0]}) " + " ".join(groups[1:]) if len(groups) > 1 else f"({groups[0]})"
    if style == "slash":
        return f"{groups[0]}/" + "".join(groups[1:]) if len(groups) > 1 else groups[0]
    if style == "intl_00":
        return "00" + international[1:]
    if style == "nbsp":
        return international.replace(" ", "\u00a0")
    if style == "double_space":
        return international.replace(" ", "  ")
    if style == "fullwidth":
        return e164.translate(FULLWIDTH)
    raise ValueError(style)


def national_digit_count(number: PhoneNumber) -> int:
    return len(re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)))


# ------------------------------------------------------------------------------------------------
# Spoken digits
# ------------------------------------------------------------------------------------------------

DIGIT_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "de": ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
}
PLUS_WORD = {"en": "plus", "de": "plus", "fr": "plus", "es": "más"}


def speak_digits(digits: str, language: str, rng: random.Random) -> str:
    """Digits as a speech-to-text engine writes them: words, English "oh", "double" and "triple"."""
    words = DIGIT_WORDS[language]
    out: list[str] = []
    index = 0
    while index < len(digits):
        digit = digits[index]
        run = len(digits[index:]) - len(digits[index:].lstrip(digit))
        word = "oh" if language == "en" and digit == "0" and rng.random() < 0.6 else words[int(digit)]
        if language == "en" and run >= 3 and rng.random() < 0.4:
            out.append(f"triple {word}")
            index += 3
        elif language == "en" and run >= 2 and rng.random() < 0.5:
            out.append(f"double {word}")
            index += 2
        else:
            out.append(word)
            index += 1
    return " ".join(out)


def speak_groups(groups: list[str], language: str, rng: random.Random) -> str:
    pause = rng.choice([", ", " ", " ... "])
    return pause.join(speak_digits(g, language, rng) for g in groups if g)


def speak_phone(number: PhoneNumber, language: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        parts = re.findall(r"\d+", phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
        return f"{PLUS_WORD[language]} " + speak_groups(parts, language, rng)
    groups = re.findall(r"\d+", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    return speak_groups(groups if len(groups) > 1 else _chunks(groups[0]), language, rng)


def read_back(digits: str, rng: random.Random) -> str:
    """An agent repeating a number one digit at a time."""
    return rng.choice(["-", " ", " - ", ", "]).join(digits)


# ------------------------------------------------------------------------------------------------
# Templates, by language: {slot} is filled by Conversation.fill; kinds say where the text comes from
# ------------------------------------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "chat": [
            "hey it's me again, best number to get me is {phone}",
            "pls call me back {phone} thx",
            "Phone: {phone}",
            "can you text me at {phone} when order {order} ships?",
            "new mobile is {phone}, the old one is gone",
            "landline {phone}, mobile {phone}",
            "I tried ringing you from {phone} but nobody picked up. I live at {address}",
            "my email's {email}, ticket {ticket}",
            "contact details: {email} / {phone}",
            "payment went through on card {card} for {amount}",
            "refund it to IBAN {iban} please, invoice {invoice}",
            "the login page says blocked IP {ip}, app {version}",
            "SSN {ssn} for the credit check",
            "reach me on {phone} or drop a line to {email}",
            "whatsapp me: {phone}",
            "my router's public address is {ip} if that helps",
            "the VPN gives me {ip} and the portal still refuses me",
            "please pay the deposit back to {iban}",
            "bank account for the refund: {iban} (same name as the booking)",
            "for the background check my social security number is {ssn}",
            "they blocked {ip} after the third password attempt",
            "if I'm out, my partner {other_name} is on {phone}",
        ],
        "email": [
            "Subject: Re: case {ticket}\n\nHello,\n\nplease update my contact number to {phone}.\n\nKind regards,\n"
            "{subject_name}\nMob: {phone}",
            "Hi team,\n\nInvoice {invoice} ({amount}) was charged twice to my card {card}.\n\nThanks,\n{other_name}\n{address}",
            "Subject: new bank details\n\nFrom now on please use IBAN {iban}.\nFor questions: tel. {phone}\n\n"
            "Best,\n{subject_name}",
            "Dear Sir or Madam,\n\nmy order {order} of {date} has not arrived (tracking {tracking}). You can call me "
            "on {phone} between {time} and {time}.\n\nYours faithfully,\n{other_name}",
            "Hello,\nmy old address {email} no longer works, write to {email} instead.\n--\n{subject_name}\n"
            "{address}\nTel {phone}",
        ],
        "speech": [
            "caller: yeah my number is {phone_spoken}",
            "caller: it's {phone_spoken}, that's my mobile",
            "caller: the card number is {card_spoken}",
            "caller: my social is {ssn_spoken}",
            "caller: email is {email_spoken}",
            "caller: um you can reach me at {phone_spoken} after {time}",
            "caller: call me back on {phone_spoken} please",
            "caller: the long number on the front is {card_spoken} and it expires next year",
        ],
        "readback": [
            "agent: let me read that back, {phone_readback}, is that correct? caller: yes",
            "agent: so that's {email_spoken}? caller: correct",
            "agent: I have {phone} on file, is that still the best number?",
            "agent: and the card, {card_readback}? caller: that's the one",
            "agent: confirming your number {phone_spoken}. caller: yep",
            "agent: the SSN I have is {ssn_readback}, right?",
        ],
        "negative": [
            "order {order} placed on {date} at {time}, total {amount}",
            "tracking says {tracking}, delivery to {postcode}",
            "I paid with the card ending {card_tail} on {date}",
            "ticket {ticket} was opened {date}, still nothing",
            "updated to {version} yesterday and it crashes",
            "{other_name} from billing said invoice {invoice} is {amount}",
            "My address: {address}",
            "caller: my order number is {order_spoken}",
            "agent: your reference is {ticket} and the postcode {postcode}, thank you",
            "the transfer from the account ending {iban_tail} was {amount} on {date}",
            "firmware {version} since {date} {time}",
            "parcel {tracking} left the depot at {time}",
            "the statement shows card {card_masked} and account {iban_masked}",
            "receipt: {card_masked}, {amount}, {date} {time}",
        ],
        "subject": [
            "this is {subject_name}, calling about my bill",
            "account holder: {subject_name}",
            "{subject_name}\n{subject_email}",
            "text me on {subject_phone}",
            "caller: yes it's {subject_name} and my email is {subject_email}",
        ],
    },
    "de": {
        "chat": [
            "Rufen Sie mich bitte unter {phone} zurück",
            "Meine Handynummer lautet {phone}",
            "Tel.: {phone} · E-Mail: {email}",
            "Bitte den Betrag auf {iban} überweisen",
            "Festnetz {phone}, mobil {phone}",
            "Der Login von {ip} wird abgelehnt",
        ],
        "speech": [
            "Anrufer: meine Nummer ist {phone_spoken}",
            "Anrufer: also die Nummer ist {phone_spoken}, danke",
        ],
        "readback": ["Agent: ich wiederhole: {phone_readback}, stimmt das? Anrufer: ja"],
        "negative": [
            "Bestellung {order} vom {date}, Betrag {amount}",
            "Sendungsnummer {tracking}, PLZ {postcode}",
            "Meine Anschrift: {address}",
            "Version {version} seit {date}",
            "Abbuchung vom Konto {iban_masked} am {date}",
        ],
        "subject": ["Hier spricht {subject_name}", "Erreichbar unter {subject_phone}"],
    },
    "fr": {
        "chat": [
            "Vous pouvez me joindre au {phone}",
            "mon portable : {phone}",
            "Tél. {phone} / courriel {email}",
            "merci de rembourser sur {iban}",
            "rappelez-moi au {phone} svp",
            "l'accès depuis {ip} est bloqué",
        ],
        "speech": [
            "appelant : mon numéro c'est le {phone_spoken}",
            "appelant : alors c'est {phone_spoken}",
        ],
        "readback": ["conseiller : je répète, {phone_readback}, c'est bien ça ? appelant : oui"],
        "negative": [
            "Commande {order} du {date}, montant {amount}",
            "Mon adresse : {address}",
            "colis {tracking}, code postal {postcode}",
            "mis à jour en {version} le {date} à {time}",
        ],
        "subject": ["C'est {subject_name} à l'appareil", "joignable au {subject_phone}"],
    },
    "es": {
        "chat": [
            "Mi móvil es el {phone}, llámenme",
            "Puede contactarme en {phone} o en {email}",
            "Teléfono de contacto: {phone}",
            "el reembolso a la cuenta {iban}",
        ],
        "speech": [
            "cliente: mi número es {phone_spoken}",
            "cliente: apunte, {phone_spoken}",
        ],
        "readback": ["agente: le repito, {phone_readback}, ¿correcto? cliente: sí"],
        "negative": [
            "Pedido {order} del {date} por {amount}",
            "Mi dirección es {address}",
            "envío {tracking}, código postal {postcode}",
        ],
        "subject": ["Soy {subject_name}", "mi número: {subject_phone}"],
    },
    "ja": {
        "chat": [
            "電話番号は{phone}です",
            "連絡先：{phone_fullwidth}",  # noqa: RUF001 (the punctuation these languages write)
            "携帯{phone}までお電話ください",
            "メールは{email}にお願いします",
            "カード番号{card}で支払いました",
        ],
        "negative": [
            "注文番号{order}、{date}に発送済み",
            "お届け先の郵便番号は{postcode}です",
            "住所：{address}",  # noqa: RUF001 (the punctuation these languages write)
            "金額{amount}を{date}にお支払い",
        ],
        "subject": ["私は{subject_name}です", "{subject_name}様の電話番号は{subject_phone}"],
    },
    "zh": {
        "chat": [
            "我的手机号是{phone}",
            "请拨打{phone_fullwidth}联系我",
            "邮箱：{email}",  # noqa: RUF001 (the punctuation these languages write)
            "退款请打到{iban}",
        ],
        "negative": [
            "订单号{order}，金额{amount}",  # noqa: RUF001 (the punctuation these languages write)
            "地址：{address}",  # noqa: RUF001 (the punctuation these languages write)
            "快递单号{tracking}，{date}发出",  # noqa: RUF001 (the punctuation these languages write)
        ],
        "subject": ["我是{subject_name}", "{subject_name}的电话{subject_phone}"],
    },
}
LOCALE_LANGUAGE = {"de": "de", "fr": "fr", "es": "es", "ja": "ja", "zh": "zh"}
KIND_WEIGHTS = {"chat": 30, "email": 10, "speech": 18, "readback": 10, "negative": 24, "subject": 8}
SLOT_TYPES = {
    "phone": "PHONE", "phone_spoken": "PHONE", "phone_readback": "PHONE", "phone_fullwidth": "PHONE",
    "email": "EMAIL", "email_spoken": "EMAIL", "card": "CREDIT_CARD", "card_spoken": "CREDIT_CARD",
    "card_readback": "CREDIT_CARD", "iban": "IBAN", "ip": "IP_ADDRESS", "ssn": "US_SSN", "ssn_spoken": "US_SSN",
    "ssn_readback": "US_SSN", "subject_name": "SUBJECT", "subject_email": "SUBJECT", "subject_phone": "SUBJECT",
}


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
        number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) or \
            phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
        assert number is not None
        self.phone = number
        self.subject_key = (number.country_code, phonenumbers.national_significant_number(number))
        self.known = {"names": [self.name], "emails": [self.email],
                      "phones": [phonenumbers.format_number(number, PhoneNumberFormat.E164)]}

    # -- values --------------------------------------------------------------------------------
    def pick_phone(self) -> tuple[str, PhoneNumber]:
        rng = self.rng
        pool = example_numbers()
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
            how, number = "digit_off", _number(number.country_code, nsn[:-1] + str((int(nsn[-1]) + 1) % 10))
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
            return rng.choice([f"#{_digits(rng, rng.randint(6, 10))}", f"ORD-{_digits(rng, 8)}",
                               f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}{_digits(rng, 9)}",
                               f"{_digits(rng, 3)}-{_digits(rng, 7)}-{_digits(rng, 4)}", _digits(rng, 10).lstrip("0")])
        if slot == "order_spoken":
            return speak_digits(_digits(rng, rng.randint(5, 8)), "en", rng)
        if slot == "ticket":
            return rng.choice([f"INC{_digits(rng, 7)}", f"CS-{rng.randint(2019, 2026)}-{_digits(rng, 6)}",
                               f"#{_digits(rng, 6)}", f"SR {_digits(rng, 4)} {_digits(rng, 4)}"])
        if slot == "invoice":
            return rng.choice([f"INV-{rng.randint(2019, 2026)}-{_digits(rng, 5)}", f"F{_digits(rng, 9)}",
                               f"{_digits(rng, 4)}/{rng.randint(2019, 2026)}"])
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
                "JJD" + _digits(rng, 18),
                " ".join(re.findall(r"\d{1,4}", "9400" + _digits(rng, 18))),
                "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + _digits(rng, 9) + "GB",
                _digits(rng, 12),
            ])
        if slot == "card_tail" or slot == "iban_tail":
            return _digits(rng, 4)
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
