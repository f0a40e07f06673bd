"""A generated, labelled corpus of contact-centre messages for the redaction benchmark.

Deterministic for a seed. Each message is chat or voice-transcript text in one of six languages
(EN, DE, FR, ES, NL, IT) or a system log line, with the exact character spans of every piece of
personal data it holds:

* EMAIL: typed addresses in many shapes, spaces around ``@``, and spoken or obfuscated forms
  ("jane dot doe at gmail dot com", "jane(at)example(dot)com") in voice transcripts;
* PHONE: valid numbers (``phonenumbers.is_valid_number``) of 11 countries, mobile and fixed, as
  E.164, international, national, ``00``-prefixed, ``+44 (0)``, dashes, dots, slashes,
  brackets, bare digits, the trunk 0 wrongly kept after the country code, and digit by digit;
* CREDIT_CARD: Luhn-valid Visa, Mastercard (5x and 2-series), Amex, Discover, JCB numbers,
  grouped by spaces or dashes, compact, 4-6-5, read out digit by digit;
* IBAN: valid for 12 countries, grouped by four, compact, lower case;
* IP_ADDRESS: IPv4 (with ports, CIDR suffixes) and IPv6 (full, compressed, link-local);
* US_SSN: valid area/group/serial, dashed, spaced, and bare after "SSN";
* SUBJECT: the conversation's data subject's own name, email and phone in other spellings
  (case, spaces, "Doe, Jane", "J. Doe", "Mr Doe", diacritics dropped or transliterated,
  emails spoken or upper-cased, the phone in any of the formats above).

Hard negatives, labelled as nothing: order, ticket, invoice and tracking numbers, dates, times,
versions (including four-part ones that would be valid IPv4), amounts with currency, digit strings
that fail Luhn, IBANs with a wrong checksum, SSNs with area 000/666/9xx, numbers too short to be
phones, file names with ``@``, "at" in ordinary sentences, and names that resemble the subject's.
"""

from __future__ import annotations

import ipaddress
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

LANGUAGES = ("en", "de", "fr", "es", "nl", "it")
REGIONS = ("GB", "US", "DE", "FR", "ES", "IT", "NL", "IE", "AU", "IN", "BR")
LANGUAGE_REGIONS = {
    "en": ("GB", "US", "IE", "AU", "IN"),
    "de": ("DE",),
    "fr": ("FR",),
    "es": ("ES", "BR"),
    "nl": ("NL",),
    "it": ("IT",),
}


@dataclass
class Message:
    text: str
    language: str
    entities: list[tuple[str, int, int]]
    subject: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "chat"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "kind": self.kind,
            "entities": [{"type": t, "start": s, "end": e} for t, s, e in self.entities],
        }


# ------------------------------------------------------------------------------------------------
# Value generators: each returns the text to insert
# ------------------------------------------------------------------------------------------------

FIRST_NAMES = [
    "Jane", "John", "Amelia", "Oliver", "Zoë", "José", "François", "Søren", "Ana", "Lucía", "Jürgen", "Anne-Marie",
    "Priya", "Rahul", "Chloé", "Hélène", "Björn", "Marta", "Giulia", "Luca", "Sophie", "Daan", "Emma", "Noah",
    "Aoife", "Siobhán", "Mateo", "Inès", "Renée", "Łukasz", "Mia", "Liam", "Fatima", "Omar", "Eleni", "Thiago",
]
LAST_NAMES = [
    "Doe", "Smith", "Müller", "García", "O'Neill", "van der Berg", "Dubois", "Rossi", "Jansen", "Schröder",
    "Fernández", "Kowalski", "Martin", "Bernard", "Byrne", "Nguyen", "Patel", "Sharma", "Silva", "Costa",
    "de Vries", "Weiß", "Lefèvre", "Bianchi", "Murphy", "Taylor", "Brown", "Hoffmann", "López", "Peeters",
]
DOMAINS = [
    "gmail.com", "yahoo.co.uk", "outlook.com", "hotmail.fr", "gmx.de", "web.de", "orange.fr", "telefonica.es",
    "libero.it", "ziggo.nl", "example.com", "mail.example.org", "eircom.net", "bigpond.com.au", "uol.com.br",
    "proton.me", "icloud.com", "company.co.uk", "uni-heidelberg.de", "posteo.de",
]
FILLER_WORDS = ["please", "thanks", "ok", "sure", "right", "yes", "so", "um", "well"]

SPOKEN = {
    "en": ("dot", "at"),
    "de": ("punkt", "at"),
    "fr": ("point", "arobase"),
    "es": ("punto", "arroba"),
    "nl": ("punt", "apenstaartje"),
    "it": ("punto", "chiocciola"),
}


def ascii_fold(text: str) -> str:
    import unicodedata

    table = {"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
    text = "".join(table.get(c, c) for c in text)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def email_local(first: str, last: str, rng: random.Random) -> str:
    f = re.sub(r"[^a-z]", "", ascii_fold(first).lower())
    last_part = re.sub(r"[^a-z]", "", ascii_fold(last).lower())
    style = rng.randrange(8)
    if style == 0:
        return f"{f}.{last_part}"
    if style == 1:
        return f"{f[0]}{last_part}{rng.randint(1, 99)}"
    if style == 2:
        return f"{f}_{last_part}"
    if style == 3:
        return f"{f}.{last_part}+{rng.choice(['shop', 'news', 'acme', 'orders'])}"
    if style == 4:
        return f"{last_part}.{f}{rng.randint(1970, 2005)}"
    if style == 5:
        return f"{f}{last_part}"
    if style == 6:
        return f"{f}-{last_part}"
    return f"{f[0]}.{last_part}"


def make_email(rng: random.Random, first: str | None = None, last: str | None = None) -> str:
    first = first or rng.choice(FIRST_NAMES)
    last = last or rng.choice(LAST_NAMES)
    address = f"{email_local(first, last, rng)}@{rng.choice(DOMAINS)}"
    if rng.random() < 0.1:
        address = address.capitalize() if rng.random() < 0.5 else address.upper()
    return address


def spoken_email(address: str, language: str, rng: random.Random) -> str:
    dot, at = SPOKEN[language]
    local, _, domain = address.partition("@")
    style = rng.randrange(3)
    if style == 0:
        return f" {dot} ".join(local.split(".")) + f" {at} " + f" {dot} ".join(domain.split("."))
    if style == 1:
        return local + "(at)" + domain.replace(".", "(dot)")
    return local + " [at] " + domain


_PHONE_CACHE: dict[tuple[str, int], list[phonenumbers.PhoneNumber]] = {}


def make_phone_number(region: str, rng: random.Random, kind: int | None = None) -> phonenumbers.PhoneNumber:
    kinds = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
    number_type = kind if kind is not None else rng.choice(kinds)
    example = phonenumbers.example_number_for_type(region, number_type)
    assert example is not None
    national = str(example.national_number)
    for _ in range(200):
        keep = max(2, len(national) - rng.randint(4, 7))
        candidate = national[:keep] + "".join(rng.choice(string.digits) for _ in range(len(national) - keep))
        number = phonenumbers.parse("+" + str(example.country_code) + candidate, None)
        if example.italian_leading_zero:
            zeros = "0" * (example.number_of_leading_zeros or 1)
            number = phonenumbers.parse("+" + str(example.country_code) + zeros + candidate, None)
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
            number_type,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return number
    return example


TRUNK_ZERO = {"GB", "DE", "FR", "NL", "IE", "AU", "IN"}


def format_phone(number: phonenumbers.PhoneNumber, region: str, rng: random.Random, voice: bool = False) -> str:
    intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(number)
    national_digits = re.sub(r"\D", "", national)
    code = str(number.country_code)
    styles = ["intl", "national", "e164", "00", "dashes", "compact", "spaced_intl"]
    if region in TRUNK_ZERO:
        styles += ["trunk_brackets", "trunk_kept"]
    if region in ("FR", "US", "IT"):
        styles += ["dots"]
    if region == "US":
        styles += ["us_dashes", "us_one", "us_brackets"]
    if region == "DE":
        styles += ["slash", "de_brackets"]
    if voice:
        styles += ["digit_by_digit", "digit_by_digit", "pairs"]
    style = rng.choice(styles)
    if style == "intl":
        return intl
    if style == "national":
        return national
    if style == "e164":
        return e164
    if style == "00":
        return "00" + intl[1:]
    if style == "dashes":
        return intl.replace(" ", "-")
    if style == "compact":
        return national_digits
    if style == "spaced_intl":
        return f"+{code} " + " ".join(re.findall(r"\d{1,3}", nsn))
    if style == "trunk_brackets":
        return f"+{code} (0)" + intl.split(" ", 1)[1]
    if style == "trunk_kept":
        return f"+{code} " + national
    if style == "dots":
        if region == "US":
            return f"{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}"
        return ".".join(re.findall(r"\d{1,2}", national_digits)) if region == "FR" else national.replace(" ", ".")
    if style == "us_dashes":
        return f"{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    if style == "us_one":
        return f"1-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    if style == "us_brackets":
        return f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"
    if style == "slash":
        area, _, rest = national.partition(" ")
        return f"{area}/{rest.replace(' ', '')}"
    if style == "de_brackets":
        area, _, rest = national.partition(" ")
        return f"({area}) {rest}"
    if style == "digit_by_digit":
        return " ".join(national_digits)
    # pairs, as people read numbers out
    return " ".join(re.findall(r"\d{1,2}", national_digits))


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return body + str((10 - total % 10) % 10)


def make_card_digits(rng: random.Random) -> str:
    network = rng.randrange(7)
    if network <= 1:
        return luhn_complete("4", 16, rng)
    if network == 2:
        return luhn_complete(str(rng.randint(51, 55)), 16, rng)
    if network == 3:
        return luhn_complete(str(rng.randint(2221, 2720)), 16, rng)
    if network == 4:
        return luhn_complete(rng.choice(["34", "37"]), 15, rng)
    if network == 5:
        return luhn_complete(rng.choice(["6011", "65"]), 16, rng)
    return luhn_complete(str(rng.randint(3528, 3589)), 16, rng)


def format_card(digits: str, rng: random.Random, voice: bool = False) -> str:
    styles = ["spaces", "spaces", "dashes", "compact"]
    if voice:
        styles += ["digit_by_digit", "digit_by_digit", "comma_groups"]
    style = rng.choice(styles)
    if len(digits) == 15 and style in ("spaces", "dashes"):
        sep = " " if style == "spaces" else "-"
        return sep.join([digits[:4], digits[4:10], digits[10:]])
    if style == "spaces":
        return " ".join(re.findall(r"\d{1,4}", digits))
    if style == "dashes":
        return "-".join(re.findall(r"\d{1,4}", digits))
    if style == "compact":
        return digits
    if style == "digit_by_digit":
        return " ".join(digits)
    return ", ".join(re.findall(r"\d{1,4}", digits))


IBAN_SPECS = {
    # country: BBAN layout, "n" digit, "a" upper-case letter, "c" alphanumeric
    "DE": "n" * 18, "GB": "aaaa" + "n" * 14, "FR": "n" * 10 + "c" * 11 + "nn", "ES": "n" * 20, "NL": "aaaa" + "n" * 10,
    "IT": "a" + "n" * 10 + "c" * 12, "BE": "n" * 12, "IE": "aaaa" + "n" * 14, "AT": "n" * 16, "CH": "n" * 5 + "c" * 12,
    "PL": "n" * 24, "PT": "n" * 21,
}


def iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{98 - number % 97:02d}"


def make_iban(rng: random.Random, country: str | None = None) -> str:
    country = country or rng.choice(sorted(IBAN_SPECS))
    pools = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}
    bban = "".join(rng.choice(pools[k]) for k in IBAN_SPECS[country])
    return country + iban_check(country, bban) + bban


def format_iban(iban: str, rng: random.Random) -> str:
    style = rng.randrange(5)
    if style <= 2:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    if style == 3:
        return iban
    return iban.lower()


def make_ipv4(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if not address.is_multicast and not address.is_reserved and str(address).split(".")[0] != "0":
            return str(address)


def make_ipv6(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return ipaddress.IPv6Address(rng.getrandbits(128)).exploded
    if style == 1:
        groups = [f"{rng.getrandbits(16):x}" for _ in range(4)]
        return "2001:db8:" + ":".join(groups[:2]) + "::" + groups[3]
    if style == 2:
        return "fe80::" + ":".join(f"{rng.getrandbits(16):x}" for _ in range(4))
    return str(ipaddress.IPv6Address(rng.getrandbits(128)))


def make_ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def format_ssn(ssn: str, rng: random.Random) -> str:
    style = rng.randrange(5)
    if style <= 2:
        return ssn
    return ssn.replace("-", " ")


# ------------------------------------------------------------------------------------------------
# Hard negatives: numeric text that is not personal data
# ------------------------------------------------------------------------------------------------


def neg_order(rng: random.Random) -> str:
    return rng.choice([
        str(rng.randint(10_000_000, 999_999_999)),
        f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}",
        f"{rng.randint(2019, 2025)}-{rng.randint(10000, 99999)}",
        str(rng.randint(1_000_000_000, 9_999_999_999)),
        f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
    ])


def neg_date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2026), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m}/{d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d}-{m}-{y}",
                       f"{y}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"])


def neg_time(rng: random.Random) -> str:
    h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice([f"{h:02d}:{m:02d}:{s:02d}", f"{h}:{m:02d}", f"{h:02d}:{m:02d}:{s:02d}.{rng.randint(0, 999):03d}"])


def neg_version(rng: random.Random) -> str:
    parts = [str(rng.randint(0, 20)) for _ in range(rng.choice([3, 4]))]
    return rng.choice(["v", "version ", "Version ", "v", "build "]) + ".".join(parts)


def neg_amount(rng: random.Random) -> str:
    whole = rng.randint(1, 9_999_999)
    cents = rng.randint(0, 99)
    us = f"{whole:,}.{cents:02d}"
    if rng.random() < 0.5:
        eu = us.replace(",", " ").replace(".", ",")
    else:
        eu = us.replace(",", "X").replace(".", ",").replace("X", ".")
    spaced = f"{whole:,}".replace(",", " ")
    return rng.choice([f"€{us}", f"$ {spaced}", f"{eu} €", f"£{us}", f"{eu} EUR", f"R$ {eu}", f"USD {us}", f"{spaced} euros",
                       f"${whole}", f"{eu}€"])


def neg_tracking(rng: random.Random) -> str:
    return rng.choice([
        "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        "9400 " + " ".join(str(rng.randint(1000, 9999)) for _ in range(4)) + f" {rng.randint(10, 99)}",
        "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + str(rng.randint(100000000, 999999999)) + "GB",
        " ".join(str(rng.randint(1000, 9999)) for _ in range(3)),
        "JD01" + "".join(rng.choice(string.digits) for _ in range(16)),
    ])


def neg_bad_card(rng: random.Random) -> str:
    while True:
        digits = make_card_digits(rng)
        broken = digits[:-1] + str((int(digits[-1]) + rng.randint(1, 9)) % 10)
        return " ".join(re.findall(r"\d{1,4}", broken)) if rng.random() < 0.6 else broken


def neg_bad_iban(rng: random.Random) -> str:
    iban = make_iban(rng)
    check = int(iban[2:4])
    bad = iban[:2] + f"{(check + rng.randint(1, 90)) % 97 + 2:02d}" + iban[4:]
    if bad == iban:
        bad = iban[:-1] + str((int(iban[-1], 36) + 1) % 10)
    return " ".join(bad[i : i + 4] for i in range(0, len(bad), 4)) if rng.random() < 0.6 else bad


def neg_bad_ssn(rng: random.Random) -> str:
    area = rng.choice(["000", "666", str(rng.randint(900, 999))])
    return f"{area}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def neg_short(rng: random.Random) -> str:
    return rng.choice([
        f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        str(rng.randint(1000, 99999)),
        f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
    ])


def neg_ip_like_version(rng: random.Random) -> str:
    return rng.choice(["version ", "v", "firmware ", "Version ", "build "]) + ".".join(str(rng.randint(0, 20)) for _ in range(4))


# ------------------------------------------------------------------------------------------------
# Templates: {slot} is filled from the generators above; slots in POSITIVE are labelled
# ------------------------------------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "pos": [
            "Hi, my email is {email} and my mobile is {phone}",
            "You can reach me on {phone} after 6pm",
            "my other email is {email}, the old one doesn't work",
            "Card number is {card}, expiry {date}",
            "It's {card}",
            "sure the long number on the card is {card_voice}",
            "Please refund to {iban}",
            "IBAN: {iban}, name on the account is the same",
            "I'm logging in from {ipv4} and it keeps failing",
            "my SSN is {ssn}",
            "Social security number {ssn}, date of birth {date}",
            "yeah my number is {phone_voice}",
            "my email is {email_spoken}",
            "Call me back at {phone} or email {email}",
            "Number: {phone}",
            "{phone}",
            "New number is {phone} - please update the account",
            "the app shows IP {ipv6} in the security log",
            "Can you send it to {email}?",
            "My husband's number is {phone}, he's the one who ordered",
            "Ticket {order}: customer says card {card} was charged twice",
            "Paid with {card} on {date} at {time}, order #{order}",
            "Please update my details: phone {phone}, email {email}, IBAN {iban}",
            "ok so it's {card_voice} and the expiry is 0 4 2 7",
            "my SSN is {ssn_bare}",
            "SSN {ssn}",
            "the social is {ssn}, and the zip is {short}",
            "Tax ID / SSN: {ssn}",
            "my social security number is {ssn_bare}",
            "For verification: {ssn}",
            "my ssn {ssn} and my date of birth {date}",
        ],
        "neg": [
            "Your order #{order} has been shipped, tracking number {tracking}",
            "I was charged {amount} on {date} at {time}",
            "The app version is {ip_like_version}, is that the latest?",
            "Updated to {version} yesterday and now it crashes",
            "Invoice {order} for {amount} is due on {date}",
            "Is the card number {bad_card} right? the site said invalid",
            "I tried {bad_iban} but the bank rejected it",
            "Reference number: {order}",
            "We'll call you back between {time} and {time}",
            "Extension {short}, room {short}",
            "The form rejected {bad_ssn} as an SSN",
            "I bought it at amazon.com last week",
            "Meet at home dot com? no I mean the website",
            "The logo@2x.png file is broken on the page",
            "Order number is {order} and the total was {amount}",
            "Tracking: {tracking}",
            "Call 555-{short4} for the local branch",
            "Delivered {date} {time}, parcel {tracking}",
            "Your case ID is {order}, thanks for your patience",
            "It says error code {short} at {time}",
        ],
    },
    "de": {
        "pos": [
            "Meine E-Mail ist {email}, Handy {phone}",
            "Sie erreichen mich unter {phone}",
            "Meine andere E-Mail-Adresse lautet {email}",
            "Die Kartennummer ist {card}",
            "Bitte auf {iban} überweisen",
            "IBAN {iban}, Kontoinhaber bin ich",
            "Rufen Sie mich bitte unter {phone} zurück",
            "meine Nummer ist {phone_voice}",
            "meine E-Mail ist {email_spoken}",
            "Neue Telefonnummer: {phone}",
            "Ich komme von der IP {ipv4} nicht rein",
            "also die Karte ist {card_voice}",
            "Bestellung {order}: bitte Rückruf an {phone}",
            "Tel.: {phone}",
        ],
        "neg": [
            "Ihre Bestellnummer {order} wurde am {date} versandt",
            "Mir wurden {amount} abgebucht, am {date} um {time}",
            "Sendungsnummer: {tracking}",
            "Die App ist auf {version}, Firmware {ip_like_version}",
            "Rechnung {order} über {amount}",
            "Die Kartennummer {bad_card} wird abgelehnt",
            "Die IBAN {bad_iban} ist laut Bank ungültig",
            "Vorgangsnummer {order}, Termin {date} {time}",
            "Durchwahl {short}",
        ],
    },
    "fr": {
        "pos": [
            "Mon e-mail est {email} et mon portable {phone}",
            "Vous pouvez me joindre au {phone}",
            "Mon autre adresse mail c'est {email}",
            "Le numéro de carte est {card}",
            "Mon IBAN : {iban}",
            "Rappelez-moi au {phone} s'il vous plaît",
            "mon numéro c'est le {phone_voice}",
            "mon mail c'est {email_spoken}",
            "Nouveau numéro : {phone}",
            "alors la carte c'est {card_voice}",
            "Je me connecte depuis {ipv4}",
            "Commande {order} : contactez-moi au {phone}",
        ],
        "neg": [
            "Votre commande n° {order} a été expédiée le {date}",
            "On m'a prélevé {amount} le {date} à {time}",
            "Numéro de suivi : {tracking}",
            "L'application est en {version}",
            "Facture {order} d'un montant de {amount}",
            "La carte {bad_card} est refusée",
            "L'IBAN {bad_iban} est invalide selon la banque",
            "Dossier {order}, rendez-vous le {date} à {time}",
        ],
    },
    "es": {
        "pos": [
            "Mi correo es {email} y mi móvil {phone}",
            "Me puede llamar al {phone}",
            "Mi otro correo es {email}",
            "El número de la tarjeta es {card}",
            "Mi IBAN es {iban}",
            "Llámeme al {phone} por favor",
            "mi número es el {phone_voice}",
            "mi correo es {email_spoken}",
            "Teléfono: {phone}",
            "la tarjeta es {card_voice}",
            "Entro desde la IP {ipv4}",
            "Pedido {order}: llámenme al {phone}",
        ],
        "neg": [
            "Su pedido {order} se envió el {date}",
            "Me cobraron {amount} el {date} a las {time}",
            "Número de seguimiento: {tracking}",
            "La app está en la {version}",
            "Factura {order} por {amount}",
            "La tarjeta {bad_card} da error",
            "El IBAN {bad_iban} no es válido",
            "Expediente {order}, cita el {date} a las {time}",
        ],
    },
    "nl": {
        "pos": [
            "Mijn e-mail is {email} en mijn mobiel {phone}",
            "U kunt mij bereiken op {phone}",
            "Mijn andere e-mailadres is {email}",
            "Het kaartnummer is {card}",
            "Mijn IBAN is {iban}",
            "Bel me terug op {phone} alstublieft",
            "mijn nummer is {phone_voice}",
            "mijn mail is {email_spoken}",
            "Telefoon: {phone}",
            "de kaart is {card_voice}",
        ],
        "neg": [
            "Uw bestelling {order} is verzonden op {date}",
            "Er is {amount} afgeschreven op {date} om {time}",
            "Track & trace: {tracking}",
            "De app staat op {version}",
            "Factuur {order} van {amount}",
            "Het IBAN {bad_iban} klopt niet volgens de bank",
        ],
    },
    "it": {
        "pos": [
            "La mia email è {email} e il cellulare {phone}",
            "Potete chiamarmi al {phone}",
            "La mia altra email è {email}",
            "Il numero della carta è {card}",
            "Il mio IBAN è {iban}",
            "Richiamatemi al {phone} per favore",
            "il mio numero è {phone_voice}",
            "la mia email è {email_spoken}",
            "Telefono: {phone}",
        ],
        "neg": [
            "Il suo ordine {order} è stato spedito il {date}",
            "Mi hanno addebitato {amount} il {date} alle {time}",
            "Numero di spedizione: {tracking}",
            "L'app è alla {version}",
            "Fattura {order} di {amount}",
            "La carta {bad_card} viene rifiutata",
        ],
    },
}

# Odd shapes and punctuation around the data, and look-alike numbers, in any conversation.
WILD_TEMPLATES = {
    "pos": [
        "mailto:{email}",
        "<{email}>",
        "\"{email}\" is the one on file.",
        "Email ({email}) or phone ({phone}).",
        "{phone}.",
        "Tel: {phone}; Fax: {phone}",
        "(+{phone_cc_paren}) is my number",
        "Numbers: {phone}, {phone}",
        "{phone} ext. 214",
        "Contact: {email}; {phone}",
        "Visit http://{ipv4}/status or ssh to {ipv4}:22",
        "Server [{ipv6}]:443 refused the connection",
        "Subnet {ipv4}/24 is blocked",
        "Card: {card}. CVV I'll give by phone",
        "IBAN:{iban_compact}.",
        "Account {iban} (joint)",
        "SSN#{ssn}",
        "Is it ok to send my SSN here? it's {ssn}.",
    ],
    "neg": [
        "Barcode {ean} on the box",
        "ISBN {isbn}",
        "Request id {uuid} failed",
        "Hash {hexhash} does not match",
        "Device MAC {mac}",
        "Coordinates {coords}",
        "Population 1,234,567 and growing",
        "Order {order} ({amount}) paid on {date}",
        "Week {week}, batch {short}",
        "PLZ {plz}, Hausnummer {short2}",
        "Rate went from 1.25% to 1.75% on {date}",
        "Transaction {long_id} settled",
        "Gift card {giftcard} has no balance",
        "The file is report_{date}_{short}.csv",
    ],
}

# Lines the data subject's own identifiers appear in (labelled SUBJECT), by language.
SUBJECT_TEMPLATES = {
    "en": ["This is {name} calling about my account", "The account is under {name}", "Name on the card is {name}",
           "Yes it's {name}, my email is {s_email}", "you can text {s_phone}",
           "Sorry, {name} again, did you get my email {s_email}?",
           "Hello {name}, thanks for contacting Acme", "Is this {name}?", "I'm calling for {name}, her number is {s_phone}"],
    "de": ["Hier ist {name}", "Das Konto läuft auf {name}", "Meine E-Mail ist {s_email}", "Erreichbar unter {s_phone}"],
    "fr": ["C'est {name} à l'appareil", "Le compte est au nom de {name}", "Mon mail : {s_email}", "Joignable au {s_phone}"],
    "es": ["Soy {name}", "La cuenta está a nombre de {name}", "Mi correo: {s_email}", "Mi número: {s_phone}"],
    "nl": ["U spreekt met {name}", "Het account staat op naam van {name}", "Mijn e-mail: {s_email}"],
    "it": ["Sono {name}", "Il conto è intestato a {name}", "La mia email: {s_email}"],
}

# Names that resemble a subject's but are someone else's (never labelled).
LOOKALIKE_TEMPLATES = [
    "My colleague {lookalike} will call instead",
    "Please ask for {lookalike}",
    "Agent {agent} here, how can I help?",
]

LOG_TEMPLATES = [
    "{date} INFO login ok user={email} ip={ipv4} session={order}",
    "{date} WARN payment declined card={card} amount={amount}",
    "{date} ERROR sms delivery failed to={phone_e164} attempt=3 latency={time}",
    "{date} DEBUG request from {ipv6} took 532ms build {version}",
    "{date} INFO worker-3 task erasure.redaction.scan[{order}] succeeded in 0.532s",
    "{date} INFO refund queued iban={iban} ticket={order}",
    "{date} INFO kyc check ssn={ssn} result=pass request={order}",
]


class Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[tuple[str, int, int]] = []

    def add(self, text: str, label: str | None = None) -> None:
        if label is not None and text:
            # Gold spans never include surrounding whitespace.
            stripped = text.strip()
            offset = text.index(stripped)
            self.entities.append((label, self.length + offset, self.length + offset + len(stripped)))
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)


_SLOT = re.compile(r"\{(\w+)\}")


class CorpusGenerator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # -- subject -------------------------------------------------------------------------------
    def new_subject(self, language: str) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        region = rng.choice(LANGUAGE_REGIONS[language])
        number = make_phone_number(region, rng, PhoneNumberType.MOBILE)
        email = make_email(rng, first, last).lower()
        return {
            "first": first,
            "last": last,
            "region": region,
            "number": number,
            "email": email,
            "known": {
                "names": [f"{first} {last}"],
                "emails": [email],
                "phones": [phonenumbers.format_number(number, PhoneNumberFormat.E164)],
            },
        }

    def subject_name_variant(self, subject: dict[str, Any]) -> tuple[str, str]:
        """(prefix, name) where only ``name`` is labelled: the title is not personal data."""
        rng = self.rng
        first, last = subject["first"], subject["last"]
        style = rng.randrange(10)
        if style == 0:
            return "", f"{first} {last}"
        if style == 1:
            return "", f"{first} {last}".upper()
        if style == 2:
            return "", f"{first} {last}".lower()
        if style == 3:
            return "", f"{last}, {first}"
        if style == 4:
            return "", f"{first[0]}. {last}"
        if style == 5:
            return rng.choice(["Mr ", "Ms ", "Mrs ", "Dr. ", "Herr ", "Frau ", "Mme ", "Sr. "]), last
        if style == 6:
            return "", ascii_fold(f"{first} {last}")
        if style == 7:
            translit = f"{first} {last}".replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
            return "", translit
        if style == 8:
            return "", f"{first}  {last}"
        return "", f"{first}-{last}" if " " not in last else f"{first} {last}"

    def subject_email_variant(self, subject: dict[str, Any], language: str) -> str:
        email: str = subject["email"]
        style = self.rng.randrange(4)
        if style == 0:
            return email
        if style == 1:
            return email.upper()
        if style == 2:
            return spoken_email(email, language, self.rng)
        return email.replace("@", " @ ")

    # -- slots ---------------------------------------------------------------------------------
    def fill(self, slot: str, language: str, subject: dict[str, Any]) -> tuple[str, str | None]:
        rng = self.rng
        region = rng.choice(LANGUAGE_REGIONS[language]) if rng.random() < 0.75 else rng.choice(REGIONS)
        if slot == "email":
            return make_email(rng), "EMAIL"
        if slot == "email_spoken":
            return spoken_email(make_email(rng).lower(), language, rng), "EMAIL"
        if slot == "phone":
            return format_phone(make_phone_number(region, rng), region, rng), "PHONE"
        if slot == "phone_voice":
            return format_phone(make_phone_number(region, rng), region, rng, voice=True), "PHONE"
        if slot == "phone_e164":
            number = make_phone_number(region, rng)
            return phonenumbers.format_number(number, PhoneNumberFormat.E164), "PHONE"
        if slot == "card":
            return format_card(make_card_digits(rng), rng), "CREDIT_CARD"
        if slot == "card_voice":
            return format_card(make_card_digits(rng), rng, voice=True), "CREDIT_CARD"
        if slot == "iban":
            return format_iban(make_iban(rng), rng), "IBAN"
        if slot == "ipv4":
            address = make_ipv4(rng)
            return address, "IP_ADDRESS"
        if slot == "ipv6":
            return make_ipv6(rng), "IP_ADDRESS"
        if slot == "ssn":
            return format_ssn(make_ssn(rng), rng), "US_SSN"
        if slot == "ssn_bare":
            return make_ssn(rng).replace("-", ""), "US_SSN"
        if slot == "name":
            raise AssertionError("handled by the caller")
        if slot == "s_email":
            return self.subject_email_variant(subject, language), "SUBJECT"
        if slot == "s_phone":
            return format_phone(subject["number"], subject["region"], rng, voice=rng.random() < 0.3), "SUBJECT"
        negatives = {
            "order": neg_order, "date": neg_date, "time": neg_time, "version": neg_version, "amount": neg_amount,
            "tracking": neg_tracking, "bad_card": neg_bad_card, "bad_iban": neg_bad_iban, "bad_ssn": neg_bad_ssn,
            "short": neg_short, "ip_like_version": neg_ip_like_version,
        }
        if slot == "phone_cc_paren":
            number = make_phone_number(region, rng)
            intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            return intl[1:].replace(" ", ") ", 1), "PHONE"
        if slot == "iban_compact":
            return make_iban(rng), "IBAN"
        if slot == "ean":
            body = str(rng.randint(400000000000, 409999999999))
            total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
            return body + str((10 - total % 10) % 10), None
        if slot == "isbn":
            return f"978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}", None
        if slot == "uuid":
            middle = "-".join(f"{rng.getrandbits(16):04x}" for _ in range(3))
            return f"{rng.getrandbits(32):08x}-{middle}-{rng.getrandbits(48):012x}", None
        if slot == "hexhash":
            return f"{rng.getrandbits(160):040x}", None
        if slot == "mac":
            return ":".join(f"{rng.getrandbits(8):02X}" for _ in range(6)), None
        if slot == "coords":
            return f"{rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f}", None
        if slot == "week":
            return f"{rng.randint(2019, 2026)}-W{rng.randint(1, 52):02d}", None
        if slot == "plz":
            return f"{rng.randint(10000, 99999)}", None
        if slot == "short2":
            return str(rng.randint(1, 200)), None
        if slot == "long_id":
            return str(rng.randint(10**17, 10**20)), None
        if slot == "giftcard":
            if rng.random() < 0.5:
                return " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(4)), None
            return str(rng.randint(10**15, 10**16 - 1)), None
        if slot == "short4":
            return str(rng.randint(1000, 9999)), None
        if slot == "lookalike":
            return self.lookalike(subject), None
        if slot == "agent":
            return f"{rng.choice(FIRST_NAMES)}", None
        return negatives[slot](rng), None

    def lookalike(self, subject: dict[str, Any]) -> str:
        rng = self.rng
        first, last = subject["first"], subject["last"]
        other_first = rng.choice([f for f in FIRST_NAMES if f != first])
        other_last = rng.choice([n for n in LAST_NAMES if n != last])
        return rng.choice([f"{other_first} {last}t" if " " not in last else f"{other_first} {other_last}",
                           f"{first}t {other_last}", f"{other_first} {other_last}"])

    def render(self, template: str, language: str, subject: dict[str, Any]) -> Builder:
        builder = Builder()
        cursor = 0
        for match in _SLOT.finditer(template):
            builder.add(template[cursor : match.start()])
            slot = match.group(1)
            if slot == "name":
                prefix, name = self.subject_name_variant(subject)
                builder.add(prefix)
                builder.add(name, "SUBJECT")
            else:
                value, label = self.fill(slot, language, subject)
                builder.add(value, label)
            cursor = match.end()
        builder.add(template[cursor:])
        return builder

    # -- messages ------------------------------------------------------------------------------
    def messages(self, count: int) -> list[Message]:
        rng = self.rng
        out: list[Message] = []
        subject: dict[str, Any] = {}
        language = "en"
        while len(out) < count:
            if len(out) % 12 == 0:
                language = rng.choices(LANGUAGES, weights=(40, 14, 14, 14, 9, 9))[0]
                subject = self.new_subject(language)
            roll = rng.random()
            kind = "chat"
            if roll < 0.08:
                template, kind = rng.choice(LOG_TEMPLATES), "log"
            elif roll < 0.22:
                template, kind = rng.choice(SUBJECT_TEMPLATES[language]), "subject"
            elif roll < 0.25:
                template = rng.choice(LOOKALIKE_TEMPLATES)
            elif roll < 0.33:
                template, kind = rng.choice(WILD_TEMPLATES["pos" if rng.random() < 0.5 else "neg"]), "wild"
            elif roll < 0.60:
                template = rng.choice(TEMPLATES[language]["pos"])
            else:
                template = rng.choice(TEMPLATES[language]["neg"])
            builder = self.render(template, language, subject)
            if kind == "chat" and rng.random() < 0.15:
                builder.add(" " + rng.choice(FILLER_WORDS))
            out.append(Message(builder.text(), language if kind != "log" else "log", builder.entities, subject["known"], kind))
        return out


def generate(count: int, seed: int = 20240315) -> list[Message]:
    return CorpusGenerator(seed).messages(count)
