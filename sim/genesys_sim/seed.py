"""Deterministic synthetic organisation data: subjects, their contacts, conversations, transcripts and users.

Everything comes from seeded `random.Random` streams, so the same seed gives the same people, identifiers and
texts (only timestamps move with the clock: conversations sit in the 60 days before seeding). Besides the
data subjects the seed adds "noise" people who are never subjects, so queries that do not filter fail tests.

Optional shapes of a subject (each off by default, drawn from their own RNG streams so an organisation
without them is generated exactly as before):
  linked     identifiers split over two external contacts, B merged into A (`canonicalContact`, `mergeSet`,
             `mergedFrom`, `mergedTo`); each contact has its own GDPR subject record
  recycled   a phone number the subject used before a date D was later given to a noise person, whose calls
             with it come after D; the subject's current contact and subject record no longer carry it
  active     one web-messaging conversation still in progress; it ends `active_for_s` after seeding
  former agents   inactive users who handled some conversations (agent participants with their userId)
  namesakes  another person with a subject's name (own email, phone and contact) and two conversations

Every external contact carries a `Cookie` identifier (the journey cookie of the web-messaging guest behind it),
and its web chats carry the same id as `journeyCustomerId` (type "cookie") on the customer's session.

The conversation dicts already have the analytics detail shape (`AnalyticsConversationWithoutAttributes`);
messages are kept per conversation and rendered into the conversations API shapes on request.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers

from .index import KeyCache, stored_keys
from .phones import valid_region

FIRST_NAMES = [
    "Jane",
    "John",
    "Amelia",
    "Oliver",
    "Sofia",
    "Lukas",
    "Camille",
    "Noah",
    "Emma",
    "Liam",
    "Mia",
    "Hugo",
    "Chloe",
    "Felix",
    "Isla",
    "Jonas",
    "Lea",
    "Arthur",
    "Nora",
    "Elias",
    "Ava",
    "Louis",
    "Hannah",
    "Theo",
]
LAST_NAMES = [
    "Doe",
    "Smith",
    "Müller",
    "Dubois",
    "Johnson",
    "Schmidt",
    "Martin",
    "Brown",
    "Fischer",
    "Bernard",
    "Taylor",
    "Weber",
    "Thomas",
    "Wilson",
    "Wagner",
    "Petit",
    "Evans",
    "Becker",
    "Robert",
    "Walker",
    "Hoffmann",
    "Richard",
    "Wright",
    "Schulz",
]
# Noise people never share a surname with subjects, so a subject's name never matches them.
NOISE_LAST_NAMES = ["Okafor", "Nakamura", "Silva", "Kowalski", "Novak", "Haddad", "Lindqvist", "Moreau", "Rossi"]
AGENT_NAMES = ["Alex Agent", "Sam Support", "Robin Rep", "Kim Carter", "Pat Helper"]

ORG_SMS_NUMBER = "+14155550100"
ORG_VOICE_NUMBER = "+442079460000"
ORG_SUPPORT_EMAIL = "support@acme-corp.example"
HOME_DIVISION_ID = "5a0f3e0c-7b1e-4f3a-9d7e-000000000001"
QUEUE_ID = "9c1d2b3a-0000-4000-8000-00000000a11e"

CUSTOMER_LINES = [
    "Hi, I'm {name}, my email is {email}",
    "You can call me back on {phone_display}",
    "My number is {phone}",
    "The email on my account is {email}, please check my last order",
    "I'd like to change my delivery address",
    "Thanks, that's all I needed",
    "It's {name} again, I wrote earlier about my refund",
    "Please text me at {phone} when it ships",
]
AGENT_LINES = [
    "Hello, thanks for contacting us. How can I help today?",
    "Let me check that for you.",
    "Could you confirm the phone number on the account?",
    "I've updated that for you.",
    "Is there anything else I can help with?",
]


# Surnames of former agents (shared with nobody else, so an agent's name never matches a customer).
FORMER_AGENT_LAST_NAMES = ["Lindgren", "Carvalho", "Duarte", "Kaur", "Mensah", "Ivanova", "Tanaka", "Byrne", "Horvat", "Quinn"]
AGENT_DOMAIN = "acme-corp.example"


@dataclass
class SubjectTruth:
    """Ground truth about one seeded data subject (what `/_sim/subjects` reveals)."""

    id: str
    name: str
    first_name: str
    last_name: str
    emails: list[str]  # every email the subject ever used
    phones: list[str]  # every phone the subject ever used (a recycled one included)
    external_contact_id: str  # the primary (canonical) contact
    conversation_ids: list[str] = field(default_factory=list)
    external_contact_ids: list[str] = field(default_factory=list)  # primary first; two for linked subjects
    active_conversation_ids: list[str] = field(default_factory=list)
    recycled_phones: list[str] = field(default_factory=list)  # numbers now owned by someone else
    recycled_at: str | None = None  # when the recycled number changed owner (D)
    window: dict[str, str] | None = None  # covers all the subject's own conversations; ends before D
    later_owner_conversation_ids: list[str] = field(default_factory=list)
    typed_emails: list[str] = field(default_factory=list)  # known only from what the subject typed
    # Conversations of another person with the same name (`SimConfig.namesakes`): never the subject's.
    namesake_conversation_ids: list[str] = field(default_factory=list)
    # Another person's chat that passed the subject's email on (`SimConfig.mentioned_elsewhere`): the
    # subject is no participant, so no analytics query finds it; the GDPR search reads message text.
    mentioned_conversation_ids: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "external_contact_id": self.external_contact_id,
            "external_contact_ids": list(self.external_contact_ids or [self.external_contact_id]),
            "conversation_ids": list(self.conversation_ids),
            "active_conversation_ids": list(self.active_conversation_ids),
            "recycled_phones": list(self.recycled_phones),
            "typed_emails": list(self.typed_emails),
            "recycled_at": self.recycled_at,
            "window": dict(self.window) if self.window else None,
            "later_owner_conversation_ids": list(self.later_owner_conversation_ids),
            "journey_cookie_ids": [journey_cookie(c) for c in self.external_contact_ids or [self.external_contact_id]],
            "namesake_conversation_ids": list(self.namesake_conversation_ids),
            "mentioned_conversation_ids": list(self.mentioned_conversation_ids),
        }


@dataclass
class AgentTruth:
    """Ground truth about one former agent (what `/_sim/agents` reveals)."""

    id: str
    user_id: str
    name: str
    email: str
    conversation_ids: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "email": self.email,
            "conversation_ids": list(self.conversation_ids),
        }


@dataclass(slots=True)
class StoredMessage:
    """One message of a messaging conversation; `text` is mutable so GDPR requests can rewrite it."""

    id: str
    conversation_id: str
    participant_id: str
    timestamp: str
    from_address: str
    to_address: str
    direction: str  # inbound (customer -> org) | outbound
    messenger_type: str  # webmessaging | sms
    text: str


@dataclass
class SeedData:
    """Everything an organisation holds right after seeding."""

    subjects: list[SubjectTruth]
    contacts: dict[str, dict[str, Any]]
    conversations: dict[str, dict[str, Any]]
    messages: dict[str, list[StoredMessage]]
    agents: list[dict[str, str]]
    # conversation id -> its recordings (SDK `Recording` shape); voice calls and messaging conversations.
    recordings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # GDPR subject records (GDPRSubject shape) keyed by record id, and who each one belongs to
    # (a subject id, or "noise-NNNN" for a recycled number's new owner).
    gdpr_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_owner: dict[str, str] = field(default_factory=dict)
    # user id -> User (current agents active, former agents inactive).
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    former_agents: list[AgentTruth] = field(default_factory=list)
    # Conversations still in progress when seeded (they end `active_for_s` later).
    active_conversation_ids: set[str] = field(default_factory=set)
    # The wall-clock moment the in-progress conversations were timed from.
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # conversation id -> index keys (a superset of what its strings give), and the cache that made them.
    conv_keys: dict[str, set[str]] = field(default_factory=dict)
    key_cache: KeyCache | None = None


def iso(dt: datetime) -> str:
    """Format a UTC datetime the way the platform does: milliseconds and a Z."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="milliseconds")[:23] + "Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_PREFIX: dict[int, str] = {}


def iso_us(us: int) -> str:
    """`iso` of a moment given in microseconds since the epoch (several times faster, for seeding)."""
    ms = us // 1000
    minute, rem = divmod(ms, 60_000)
    prefix = _MINUTE_PREFIX.get(minute)
    if prefix is None:
        if len(_MINUTE_PREFIX) > 200_000:
            _MINUTE_PREFIX.clear()
        prefix = _MINUTE_PREFIX[minute] = (_EPOCH + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:")
    return f"{prefix}{rem // 1000:02d}.{rem % 1000:03d}Z"


def _us(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _uuid4(rng: random.Random) -> str:
    """`str(uuid.UUID(int=rng.getrandbits(128), version=4))`, formatted without the UUID object (faster)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64) | (4 << 76)) & ~(0xC000 << 48) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _FastRandom(random.Random):
    """`choice` and `randint` from one `random()` draw each: several times cheaper than the exact versions
    (which reject draws to stay unbiased), and the bias is far below anything a test can see."""

    def choice(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class _Gen:
    """Holds the RNG and the uniqueness sets while one organisation is generated."""

    def __init__(self, seed: int) -> None:
        self.rng: random.Random = _FastRandom(seed)
        self.used_phones: set[str] = set()
        self.email_counter = 0
        self.wall_now = datetime.now(UTC)
        self.now = self.wall_now.replace(minute=0, second=0, microsecond=0)
        self.now_us = _us(self.now)
        # number -> (parsed, region) and number -> display form, filled as numbers are made.
        self.phone_meta: dict[str, tuple[phonenumbers.PhoneNumber, str | None]] = {}
        self.displays: dict[str, str] = {}
        # Index keys of every conversation, known from what was put into it (see `index`): filing them here
        # spares the organisation from tokenising tens of thousands of conversations after seeding.
        self.key_cache = KeyCache()
        self.conv_keys: dict[str, set[str]] = {}
        self._template_keys: dict[str, frozenset[str]] = {}

    def template_keys(self, template: str) -> frozenset[str]:
        """Keys of a message template's own words (placeholders stand apart, so they add nothing)."""
        found = self._template_keys.get(template)
        if found is None:
            keys: set[str] = set()
            stored_keys(re.sub(r"\{\w+\}", "\x00", template), keys)
            found = self._template_keys[template] = frozenset(keys)
        return found

    def uuid(self) -> str:
        return _uuid4(self.rng)

    def phone(self) -> str:
        """A unique E.164 number that `phonenumbers` accepts as valid, from GB, US, DE or FR."""
        rng = self.rng
        while True:
            country = rng.choice(["GB", "US", "DE", "FR"])
            if country == "GB":
                cc, national = 44, "7" + rng.choice("45789") + f"{rng.randrange(100_000_000):08d}"
            elif country == "US":
                area = rng.choice(["212", "415", "617", "312", "206", "303", "512"])
                cc, national = 1, f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            elif country == "DE":
                prefix = rng.choice(["151", "152", "157", "160", "170", "171", "172", "175", "176", "179"])
                cc, national = 49, prefix + f"{rng.randrange(100_000_000):08d}"
            else:
                cc, national = 33, "6" + f"{rng.randrange(100_000_000):08d}"
            number = f"+{cc}{national}"
            if number in self.used_phones:
                continue
            # phonenumbers.is_valid_number(parse(number)), without parsing and keeping the region.
            region = valid_region(cc, national)
            if region is not None:
                self.used_phones.add(number)
                self.phone_meta[number] = (phonenumbers.PhoneNumber(country_code=cc, national_number=int(national)), region)
                return number

    def display(self, e164: str) -> str:
        shown = self.displays.get(e164)
        if shown is None:
            meta = self.phone_meta.get(e164)
            shown = (
                phonenumbers.format_number(meta[0], phonenumbers.PhoneNumberFormat.INTERNATIONAL) if meta else phone_display(e164)
            )
            self.displays[e164] = shown
        return shown

    def phone_obj(self, e164: str) -> dict[str, Any]:
        meta = self.phone_meta.get(e164)
        if meta is None:
            return phone_number_obj(e164)
        return {"display": self.display(e164), "e164": e164, "countryCode": meta[1], "acceptsSMS": True}

    def emails(self, first: str, last: str, count: int, domain_pool: list[str]) -> list[str]:
        """Unique lower-case addresses (a global counter keeps them unique across people)."""
        f = _ascii(first).lower()
        l_ = _ascii(last).lower()
        patterns = ["{f}.{l}{n}@{d}", "{fi}{l}{n}@{d}", "{l}.{f}{n}@{d}"]
        out = []
        for i in range(count):
            self.email_counter += 1
            out.append(
                patterns[i % len(patterns)].format(f=f, l=l_, fi=f[0], n=self.email_counter, d=domain_pool[i % len(domain_pool)])
            )
        return out

    def when(self, min_age_s: int = 3600, max_age_s: int = 60 * 86400) -> datetime:
        """A conversation start between `max_age_s` and `min_age_s` ago (default: the last 60 days, at least an
        hour ago)."""
        return self.now - timedelta(seconds=self.rng.randint(min_age_s, max_age_s))


def _ascii(text: str) -> str:
    return text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("é", "e")


@functools.lru_cache(maxsize=65536)
def phone_display(e164: str) -> str:
    """International display form, e.g. "+44 7911 123456"."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_number_obj(e164: str) -> dict[str, Any]:
    """The platform's PhoneNumber object."""
    parsed = phonenumbers.parse(e164)
    return {
        "display": phone_display(e164),
        "e164": e164,
        "countryCode": phonenumbers.region_code_for_number(parsed),
        "acceptsSMS": True,
    }


_COOKIE_NAMESPACE = uuid.UUID("6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")


def journey_cookie(contact_id: str) -> str:
    """The journey cookie id of the web-messaging guest behind a contact (the browser it chatted from).

    Derived from the contact id, not drawn from the RNG, so seeding it changed no other seeded value."""
    return str(uuid.uuid5(_COOKIE_NAMESPACE, contact_id))


def contact_ref(contact_id: str) -> dict[str, str]:
    """A `ContactAddressableEntityRef`."""
    return {"id": contact_id, "selfUri": f"/api/v2/externalcontacts/contacts/{contact_id}"}


def make_contact(gen: _Gen, first: str, last: str, emails: list[str], phones: list[str]) -> dict[str, Any]:
    """An `ExternalContact` of type Identified carrying the person's emails and phones."""
    cid = gen.uuid()
    created = iso_us(gen.now_us - 1_000_000 * gen.rng.randint(3600, 60 * 86400))
    contact: dict[str, Any] = {
        "id": cid,
        "firstName": first,
        "lastName": last,
        "type": "Identified",
        "createDate": created,
        "modifyDate": created,
        "division": {"id": HOME_DIVISION_ID, "name": "Home", "selfUri": f"/api/v2/authorization/divisions/{HOME_DIVISION_ID}"},
        "selfUri": f"/api/v2/externalcontacts/contacts/{cid}",
    }
    for key, value in zip(["workEmail", "personalEmail", "otherEmail"], emails, strict=False):
        contact[key] = value
    for key, value in zip(["cellPhone", "homePhone", "workPhone"], phones, strict=False):
        contact[key] = gen.phone_obj(value)
    contact["identifiers"] = [{"type": "Email", "value": e, "dateCreated": created} for e in emails] + [
        {"type": "Phone", "value": p, "dateCreated": created} for p in phones
    ] + [{"type": "Cookie", "value": journey_cookie(cid), "dateCreated": created}]
    return contact


def merge_contacts(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Record that `source` was merged into `target` (the ExternalContact merge fields of both).

    The real platform's merge creates a third, canonical record; the simulator keeps the target as the head of
    the merge tree so each half keeps its own identifiers and only the links join them.
    """
    both = [contact_ref(target["id"]), contact_ref(source["id"])]
    target["canonicalContact"] = contact_ref(target["id"])
    target["mergeSet"] = [dict(r) for r in both]
    target["mergedFrom"] = [contact_ref(source["id"])]
    target["mergeOperation"] = {
        "sourceContact": contact_ref(source["id"]),
        "targetContact": contact_ref(target["id"]),
        "resultingContact": contact_ref(target["id"]),
    }
    source["canonicalContact"] = contact_ref(target["id"])
    source["mergeSet"] = [dict(r) for r in both]
    source["mergedTo"] = contact_ref(target["id"])


def gdpr_record(name: str | None, emails: list[str], phones: list[str], contact_id: str | None) -> dict[str, Any]:
    """A GDPRSubject-shaped record as the platform's subject search answers it."""
    return {
        "name": name,
        "emailAddresses": list(emails),
        "phoneNumbers": list(phones),
        "externalContactId": contact_id,
        "addresses": [],
    }


_NOT_COPIED_TO_ACD = frozenset({"sessionId", "segments", "recording"})


@dataclass
class _Parties:
    """Ids of one conversation and of its three participants (customer, queue, agent)."""

    conversation_id: str
    customer: str
    acd: str
    agent: str


def make_conversation(
    gen: _Gen,
    media: str,
    name: str,
    emails: list[str],
    phones: list[str],
    contact_id: str | None,
    agent: dict[str, str],
    *,
    ages: tuple[int, int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[dict[str, Any], list[StoredMessage]]:
    """One conversation of the given kind ("webmessaging", "sms", "voice" or "email").

    `ages` bounds how long ago it started (seconds); `start`/`end` fix its interaction span instead (the
    seed's in-progress conversations); messages then stop at the moment of seeding.
    """
    rng = gen.rng
    conv_id = gen.uuid()
    start_us, end_us, messages_until = _timeline(gen, ages, start, end)
    parties = _Parties(conv_id, gen.uuid(), gen.uuid(), gen.uuid())
    email = rng.choice(emails)
    phone = rng.choice(phones)
    keys = _party_keys(gen, name, agent, contact_id)
    messages: list[StoredMessage] = []
    if media in ("webmessaging", "sms"):
        cust_session, agent_session, messages = _messaging_sessions(
            gen, media, parties, name, email, phone, start_us, messages_until, keys
        )
    elif media == "voice":
        cust_session, agent_session = _voice_sessions(gen, name, phone, keys)
    else:
        cust_session, agent_session = _email_sessions(gen, name, email, keys)
    if media == "webmessaging" and contact_id:
        # The guest's journey cookie: the analytics dimension journeyCustomerId (genesys-api.md, B).
        cookie = journey_cookie(contact_id)
        cust_session["journeyCustomerId"] = cookie
        cust_session["journeyCustomerIdType"] = "cookie"
        keys |= gen.key_cache.get(cookie)
    gen.conv_keys[conv_id] = keys
    conversation = _conversation(gen, parties, name, contact_id, agent, cust_session, agent_session, start_us, end_us)
    return conversation, messages


def _timeline(gen: _Gen, ages: tuple[int, int] | None, start: datetime | None, end: datetime | None) -> tuple[int, int, int]:
    """(start, end, last moment a message may carry) in integer microseconds: formatting and arithmetic on
    datetimes dominated seeding."""
    rng = gen.rng
    if start is None:
        start_us = gen.now_us - 1_000_000 * (rng.randint(*ages) if ages else rng.randint(3600, 60 * 86400))
    else:
        start_us = _us(start)
    if end is None:
        end_us = start_us + 1_000_000 * rng.randint(120, 1800)
        return start_us, end_us, end_us
    end_us = _us(end)
    return start_us, end_us, min(end_us, _us(gen.wall_now))


def _party_keys(gen: _Gen, name: str, agent: dict[str, str], contact_id: str | None) -> set[str]:
    """Index keys of the participants every conversation has: customer, agent, queue and linked contact."""
    k = gen.key_cache.get
    keys = set(k(name))
    keys |= k(agent["name"])
    keys |= k(agent["id"])
    keys |= k("Support Queue")
    if contact_id:
        keys |= k(contact_id)
    return keys


def _messaging_sessions(
    gen: _Gen,
    media: str,
    parties: _Parties,
    name: str,
    email: str,
    phone: str,
    start_us: int,
    messages_until: int,
    keys: set[str],
) -> tuple[dict[str, Any], dict[str, Any], list[StoredMessage]]:
    """Customer and agent sessions of a web-messaging or SMS conversation, and its transcript."""
    customer_addr = phone if media == "sms" else f"guest-{gen.uuid()}"
    org_addr = ORG_SMS_NUMBER if media == "sms" else "webdeployment-acme-support"
    cust_session: dict[str, Any] = {
        "mediaType": "message",
        "messageType": media,
        "addressFrom": customer_addr,
        "addressTo": org_addr,
        "direction": "inbound",
        "recording": True,
    }
    agent_session: dict[str, Any] = {
        "mediaType": "message",
        "messageType": media,
        "addressFrom": org_addr,
        "addressTo": customer_addr,
        "direction": "inbound",
    }
    k = gen.key_cache.get
    keys |= k(customer_addr)
    keys |= k(org_addr)
    keys |= k(email)
    keys |= k(phone)
    messages = _transcript(gen, media, parties, (customer_addr, org_addr), name, email, phone, start_us, messages_until, keys)
    return cust_session, agent_session, messages


def _transcript(
    gen: _Gen,
    media: str,
    parties: _Parties,
    addresses: tuple[str, str],
    name: str,
    email: str,
    phone: str,
    start_us: int,
    messages_until: int,
    keys: set[str],
) -> list[StoredMessage]:
    """Three to six messages, customer and agent in turn, spread evenly up to `messages_until`."""
    rng = gen.rng
    k = gen.key_cache.get
    customer_addr, org_addr = addresses
    messages: list[StoredMessage] = []
    count = rng.randint(3, 6)
    step_us = (messages_until - start_us) // (count + 1)
    for i in range(count):
        from_customer = i % 2 == 0
        if from_customer:
            # The first customer line always carries PII so every messaging transcript needs redaction.
            template = CUSTOMER_LINES[0] if i == 0 else rng.choice(CUSTOMER_LINES)
            shown = ""
            if "{phone_display}" in template:
                shown = gen.display(phone)
                keys |= k(shown)
            text = template.format(name=name, email=email, phone=phone, phone_display=shown)
            keys |= gen.template_keys(template)
        else:
            text = rng.choice(AGENT_LINES)
            keys |= k(text)
        messages.append(
            StoredMessage(
                id=f"{rng.getrandbits(128):032x}",
                conversation_id=parties.conversation_id,
                participant_id=parties.customer if from_customer else parties.agent,
                timestamp=iso_us(start_us + step_us * (i + 1)),
                from_address=customer_addr if from_customer else org_addr,
                to_address=org_addr if from_customer else customer_addr,
                direction="inbound" if from_customer else "outbound",
                messenger_type=media,
                text=text,
            )
        )
    return messages


def _voice_sessions(gen: _Gen, name: str, phone: str, keys: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Customer and agent sessions of an inbound call from `phone` (both recorded)."""
    keys |= gen.key_cache.get(f"tel:{phone}")
    keys |= gen.key_cache.get(f"tel:{ORG_VOICE_NUMBER}")
    session = {
        "mediaType": "voice",
        "ani": f"tel:{phone}",
        "dnis": f"tel:{ORG_VOICE_NUMBER}",
        "remote": name,
        "direction": "inbound",
        "recording": True,
    }
    return dict(session), dict(session)


def _email_sessions(gen: _Gen, name: str, email: str, keys: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Customer and agent sessions of an email from `email` to the support address."""
    keys |= gen.key_cache.get(email)
    keys |= gen.key_cache.get(ORG_SUPPORT_EMAIL)
    cust_session = {
        "mediaType": "email",
        "addressFrom": email,
        "addressTo": ORG_SUPPORT_EMAIL,
        "remote": name,
        "direction": "inbound",
    }
    agent_session = {
        "mediaType": "email",
        "addressFrom": ORG_SUPPORT_EMAIL,
        "addressTo": email,
        "remote": name,
        "direction": "inbound",
    }
    return cust_session, agent_session


def _conversation(
    gen: _Gen,
    parties: _Parties,
    name: str,
    contact_id: str | None,
    agent: dict[str, str],
    cust_session: dict[str, Any],
    agent_session: dict[str, Any],
    start_us: int,
    end_us: int,
) -> dict[str, Any]:
    """The analytics-shaped conversation: customer, queue and agent participants with their segments."""
    mid_us = start_us + (end_us - start_us) // 10
    start_s, mid_s, end_s = iso_us(start_us), iso_us(mid_us), iso_us(end_us)
    alert_end = iso_us(mid_us + 5_000_000)
    wrap_end = iso_us(end_us + 30_000_000)
    cust_session = {
        "sessionId": gen.uuid(),
        **cust_session,
        "segments": [{"segmentStart": start_s, "segmentEnd": end_s, "segmentType": "interact"}],
    }
    acd_session = {
        **{k: v for k, v in cust_session.items() if k not in _NOT_COPIED_TO_ACD},
        "sessionId": gen.uuid(),
        "segments": [{"segmentStart": start_s, "segmentEnd": mid_s, "segmentType": "interact", "queueId": QUEUE_ID}],
    }
    agent_session = {
        "sessionId": gen.uuid(),
        **agent_session,
        "segments": [
            {"segmentStart": mid_s, "segmentEnd": alert_end, "segmentType": "alert", "queueId": QUEUE_ID},
            {"segmentStart": alert_end, "segmentEnd": end_s, "segmentType": "interact", "queueId": QUEUE_ID},
            {"segmentStart": end_s, "segmentEnd": wrap_end, "segmentType": "wrapup", "queueId": QUEUE_ID},
        ],
    }
    customer: dict[str, Any] = {
        "participantId": parties.customer,
        "participantName": name,
        "purpose": "customer",
        "sessions": [cust_session],
    }
    if contact_id:
        customer["externalContactId"] = contact_id
    return {
        "conversationId": parties.conversation_id,
        "conversationStart": start_s,
        "conversationEnd": wrap_end,
        "originatingDirection": "inbound",
        "divisionIds": [HOME_DIVISION_ID],
        "participants": [
            customer,
            {
                "participantId": parties.acd,
                "participantName": "Support Queue",
                "purpose": "acd",
                "sessions": [acd_session],
            },
            {
                "participantId": parties.agent,
                "participantName": agent["name"],
                "purpose": "agent",
                "userId": agent["id"],
                "sessions": [agent_session],
            },
        ],
    }


def _extra_names(seed: int, firsts: list[str], lasts: list[str]) -> list[tuple[str, str]]:
    """Double-barrelled names ("Jane Smith-Weber") for organisations with more subjects than simple names."""
    extra = [(f, f"{a}-{b}") for f in firsts for a in lasts for b in lasts if a != b]
    random.Random(seed * 1_000_033 + 5).shuffle(extra)
    return extra


def make_user(user_id: str, name: str, email: str, state: str) -> dict[str, Any]:
    """A `User` as `GET /api/v2/users/{userId}` answers it."""
    return {
        "id": user_id,
        "name": name,
        "division": {"id": HOME_DIVISION_ID, "name": "Home", "selfUri": f"/api/v2/authorization/divisions/{HOME_DIVISION_ID}"},
        "email": email,
        "username": email,
        "state": state,
        "title": "Customer Service Agent",
        "department": "Support",
        "primaryContactInfo": [{"address": email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "version": 1,
        "acdAutoAnswer": False,
        "selfUri": f"/api/v2/users/{user_id}",
    }


def _agent_email(name: str, n: int | None = None) -> str:
    local = ".".join(_ascii(p).lower() for p in name.split())
    return f"{local}{n if n is not None else ''}@{AGENT_DOMAIN}"


# One side of a person's identity: (emails, phones, external contact). A linked subject has two.
_Half = tuple[list[str], list[str], dict[str, Any]]


@dataclass
class _Org:
    """What `generate` has built so far."""

    truths: list[SubjectTruth] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[StoredMessage]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    active_ids: set[str] = field(default_factory=set)
    # (subject, recycled number, age of the change of owner D in seconds): their later owners come after the noise.
    later_owners: list[tuple[SubjectTruth, str, int]] = field(default_factory=list)

    def add_conversation(self, conv: dict[str, Any], msgs: list[StoredMessage]) -> str:
        self.conversations[conv["conversationId"]] = conv
        if msgs:
            self.messages[conv["conversationId"]] = msgs
        return str(conv["conversationId"])

    def add_record(self, record_id: str, owner: str, record: dict[str, Any]) -> None:
        self.records[record_id] = record
        self.owners[record_id] = owner


@dataclass(frozen=True)
class _Shapes:
    """Which subjects (by position) get which optional shape, and the RNG stream those shapes draw from."""

    pick: random.Random
    recycled: frozenset[int]
    active: frozenset[int]
    linked: frozenset[int]

    def plain(self, truths: list[SubjectTruth]) -> list[SubjectTruth]:
        """The subjects with none of the shapes."""
        shaped = self.recycled | self.active | self.linked
        return [t for n, t in enumerate(truths) if n not in shaped]


def generate(
    subjects: int,
    seed: int,
    noise_people: int = 0,
    *,
    linked_fraction: float = 0.0,
    recycled: int = 0,
    active: int = 0,
    active_for_s: float = 2.0,
    former_agents: int = 0,
    typed_emails: int = 0,
    namesakes: int = 0,
    mentioned_elsewhere: int = 0,
) -> SeedData:
    """Build a whole organisation from `seed`."""
    gen = _Gen(seed)
    agents = [{"id": gen.uuid(), "name": n} for n in AGENT_NAMES]
    names = _subject_names(gen, seed, subjects)
    shapes = _choose_shapes(seed, subjects, linked_fraction, recycled, active)
    org = _Org()
    for i in range(subjects):
        first, last = names[i % len(names)]
        _add_subject(gen, org, shapes, i, first, last, agents, active_for_s)
    _add_noise_people(gen, org, noise_people or subjects, agents)
    _add_later_owners(gen, org, agents)
    for n, truth in enumerate(shapes.plain(org.truths)[:typed_emails], start=1):
        _add_typed_email(gen, org, truth, n, gen.rng.choice(agents))
    # Recordings come last so adding them did not change any earlier draw of the RNG.
    recordings = {cid: make_recordings(gen, conv) for cid, conv in org.conversations.items()}
    users = {a["id"]: make_user(a["id"], a["name"], _agent_email(a["name"]), "active") for a in agents}
    former = _former_agents(seed, former_agents, org.conversations, org.active_ids, users)
    _file_former_agent_keys(gen, former)
    # Namesakes come after every other draw, so an organisation without them is seeded exactly as before.
    for n, truth in enumerate(shapes.plain(org.truths)[:namesakes], start=1):
        _add_namesake(gen, org, truth, n, agents)
    # Likewise last: mentions in other people's chats.
    for n, truth in enumerate(shapes.plain(org.truths)[:mentioned_elsewhere], start=1):
        _add_mention_elsewhere(gen, org, truth, n, gen.rng.choice(agents))
    return SeedData(
        subjects=org.truths,
        contacts=org.contacts,
        conversations=org.conversations,
        messages=org.messages,
        agents=agents,
        recordings={cid: recs for cid, recs in recordings.items() if recs},
        gdpr_records=org.records,
        record_owner=org.owners,
        users=users,
        former_agents=former,
        active_conversation_ids=org.active_ids,
        generated_at=gen.wall_now,
        conv_keys=gen.conv_keys,
        key_cache=gen.key_cache,
    )


def _subject_names(gen: _Gen, seed: int, subjects: int) -> list[tuple[str, str]]:
    """(first, last) names for the subjects, shuffled; double-barrelled ones follow when simple ones run out."""
    combos = [(f, l_) for f in FIRST_NAMES for l_ in LAST_NAMES]
    gen.rng.shuffle(combos)
    if subjects > len(combos):
        combos += _extra_names(seed, FIRST_NAMES, LAST_NAMES)
    return combos


def _choose_shapes(seed: int, subjects: int, linked_fraction: float, recycled: int, active: int) -> _Shapes:
    """Which subjects get which optional shape: a separate stream, so plain organisations draw as before."""
    pick = random.Random(seed * 1_000_003 + 17)
    recycled = max(0, min(recycled, subjects))
    active = max(0, min(active, subjects - recycled))  # an ongoing call cannot sit inside a closed window
    order = pick.sample(range(subjects), subjects) if (recycled or active) else []
    n_linked = max(0, min(subjects, round(subjects * linked_fraction)))
    linked = frozenset(pick.sample(range(subjects), n_linked)) if n_linked else frozenset()
    return _Shapes(pick, frozenset(order[:recycled]), frozenset(order[recycled : recycled + active]), linked)


def _add_subject(
    gen: _Gen, org: _Org, shapes: _Shapes, i: int, first: str, last: str, agents: list[dict[str, str]], active_for_s: float
) -> None:
    """The `i`-th data subject: identity, past conversations and, by shape, a recycled number or a conversation
    still in progress."""
    truth, halves = _subject_identity(gen, org, i, first, last, linked=i in shapes.linked)
    ages: tuple[int, int] | None = None
    recycled_number: str | None = None
    if i in shapes.recycled:
        ages, recycled_number = _recycle_number(gen, shapes.pick, org, truth)
    _add_past_conversations(gen, org, truth, halves, agents, ages, recycled_number)
    if i in shapes.active:
        _add_active_conversation(gen, org, shapes.pick, truth, halves[0], agents, active_for_s)
    if recycled_number:
        own = [org.conversations[c] for c in truth.conversation_ids]
        truth.window = {
            "start": min(c["conversationStart"] for c in own),
            "end": max(c["conversationEnd"] for c in own),
        }
    org.truths.append(truth)


def _subject_identity(
    gen: _Gen, org: _Org, i: int, first: str, last: str, *, linked: bool
) -> tuple[SubjectTruth, list[_Half]]:
    """A subject's emails and phones, external contacts and GDPR subject records: one of each, or for a linked
    subject two halves whose contacts are merged."""
    rng = gen.rng
    sid = f"subject-{i + 1:04d}"
    name = f"{first} {last}"
    n_emails = rng.randint(1, 3)
    if linked:
        n_emails = max(n_emails, 2)
    emails = gen.emails(first, last, n_emails, ["example.org", "mail.example.org", "example.org"])
    phones = [gen.phone() for _ in range(rng.randint(1, 2))]
    halves: list[_Half]
    if linked:
        a_emails, a_phones = emails[:1], phones[:1]
        b_emails, b_phones = emails[1:], phones[1:]
        contact_a = make_contact(gen, first, last, a_emails, a_phones)
        contact_b = make_contact(gen, first, last, b_emails, b_phones)
        merge_contacts(contact_a, contact_b)
        halves = [(a_emails, a_phones, contact_a), (b_emails, b_phones or a_phones, contact_b)]
        org.add_record(sid, sid, gdpr_record(name, a_emails, a_phones, contact_a["id"]))
        org.add_record(f"{sid}/b", sid, gdpr_record(name, b_emails, b_phones, contact_b["id"]))
    else:
        contact_a = make_contact(gen, first, last, emails, phones)
        halves = [(emails, phones, contact_a)]
        org.add_record(sid, sid, gdpr_record(name, emails, phones, contact_a["id"]))
    for _, _, contact in halves:
        org.contacts[contact["id"]] = contact
    truth = SubjectTruth(
        id=sid,
        name=name,
        first_name=first,
        last_name=last,
        emails=emails,
        phones=list(phones),
        external_contact_id=contact_a["id"],
        external_contact_ids=[c["id"] for _, _, c in halves],
    )
    return truth, halves


def _recycle_number(gen: _Gen, pick: random.Random, org: _Org, truth: SubjectTruth) -> tuple[tuple[int, int], str]:
    """Give the subject a number that changed owner D ago (20 to 40 days); returns the age bounds of the
    subject's conversations (all at least a day before D) and the number."""
    d_age = pick.randint(20 * 86400, 40 * 86400)
    number = gen.phone()
    truth.phones.append(number)
    truth.recycled_phones = [number]
    truth.recycled_at = iso(gen.now - timedelta(seconds=d_age))
    org.later_owners.append((truth, number, d_age))
    return (d_age + 86400, 60 * 86400), number


def _add_past_conversations(
    gen: _Gen,
    org: _Org,
    truth: SubjectTruth,
    halves: list[_Half],
    agents: list[dict[str, str]],
    ages: tuple[int, int] | None,
    recycled_number: str | None,
) -> None:
    """Two to four finished conversations, the first a web chat; a linked subject's second one shows the
    merged-in half, and a recycled number's owner calls once from it."""
    rng = gen.rng
    n_conv = rng.randint(2, 4)
    kinds = ["webmessaging"] + [rng.choice(["webmessaging", "sms", "voice", "email"]) for _ in range(n_conv - 1)]
    if recycled_number:
        kinds[1] = "voice"  # at least one call from the number that is someone else's now
    for k, kind in enumerate(kinds):
        with_contact = kind == "webmessaging" or rng.random() < 0.7
        half = halves[0]
        if len(halves) > 1 and (k == 1 or (k > 1 and rng.random() < 0.5)):
            half = halves[1]  # the second conversation always shows the merged-in half
        h_emails, h_phones, h_contact = half
        if recycled_number and k == 1:
            h_phones = [recycled_number]
        conv, msgs = make_conversation(
            gen, kind, truth.name, h_emails, h_phones, h_contact["id"] if with_contact else None, rng.choice(agents), ages=ages
        )
        truth.conversation_ids.append(org.add_conversation(conv, msgs))


def _add_active_conversation(
    gen: _Gen,
    org: _Org,
    pick: random.Random,
    truth: SubjectTruth,
    half: _Half,
    agents: list[dict[str, str]],
    active_for_s: float,
) -> None:
    """A web chat that started minutes ago and is still going on (it ends `active_for_s` after seeding)."""
    h_emails, h_phones, h_contact = half
    started = gen.wall_now - timedelta(seconds=pick.randint(60, 900))
    ends = gen.wall_now + timedelta(seconds=active_for_s) - timedelta(seconds=30)
    conv, msgs = make_conversation(
        gen,
        "webmessaging",
        truth.name,
        h_emails,
        h_phones,
        h_contact["id"],
        gen.rng.choice(agents),
        start=started,
        end=max(ends, started + timedelta(seconds=1)),
    )
    cid = org.add_conversation(conv, msgs)
    truth.conversation_ids.append(cid)
    truth.active_conversation_ids.append(cid)
    org.active_ids.add(cid)


def _add_noise_people(gen: _Gen, org: _Org, count: int, agents: list[dict[str, str]]) -> None:
    """People who are never subjects (surnames no subject has): every other one has an external contact."""
    rng = gen.rng
    for j in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(NOISE_LAST_NAMES)
        emails = gen.emails(first, last, rng.randint(1, 2), ["example.com", "example.net"])
        phones = [gen.phone()]
        contact_id = None
        if j % 2 == 0:
            contact = make_contact(gen, first, last, emails, phones)
            org.contacts[contact["id"]] = contact
            contact_id = contact["id"]
        for _ in range(rng.randint(1, 2)):
            kind = rng.choice(["webmessaging", "sms", "voice", "email"])
            conv, msgs = make_conversation(gen, kind, f"{first} {last}", emails, phones, contact_id, rng.choice(agents))
            org.add_conversation(conv, msgs)


def _add_later_owners(gen: _Gen, org: _Org, agents: list[dict[str, str]]) -> None:
    """New owners of recycled numbers: noise people whose current contact and subject record hold the number,
    with calls and texts from it only after it changed hands."""
    rng = gen.rng
    for n, (truth, number, d_age) in enumerate(org.later_owners, start=1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(NOISE_LAST_NAMES)
        emails = gen.emails(first, last, 1, ["example.com"])
        contact = make_contact(gen, first, last, emails, [number])
        org.contacts[contact["id"]] = contact
        org.add_record(f"noise-{n:04d}", f"noise-{n:04d}", gdpr_record(f"{first} {last}", emails, [number], contact["id"]))
        for kind in ("voice", rng.choice(["voice", "sms"])):
            conv, msgs = make_conversation(
                gen, kind, f"{first} {last}", emails, [number], contact["id"], rng.choice(agents), ages=(3600, d_age - 86400)
            )
            truth.later_owner_conversation_ids.append(org.add_conversation(conv, msgs))


def _file_former_agent_keys(gen: _Gen, former: list[AgentTruth]) -> None:
    """A former agent's name and user id now appear in the conversations they handled: file them there."""
    for agent_truth in former:
        added = gen.key_cache.get(agent_truth.name) | gen.key_cache.get(agent_truth.user_id)
        for cid in agent_truth.conversation_ids:
            gen.conv_keys[cid] |= added


def _write_in_chat(gen: _Gen, org: _Org, chat: str, text: str, value: str) -> None:
    """The chat's customer writes ``text``, which holds ``value``: a message of theirs, filed under the value."""
    thread = org.messages[chat]
    first = next(m for m in thread if m.direction == "inbound")
    thread.append(StoredMessage(id=f"{gen.rng.getrandbits(128):032x}", conversation_id=chat,
                                participant_id=first.participant_id, timestamp=thread[-1].timestamp,
                                from_address=first.from_address, to_address=first.to_address, direction="inbound",
                                messenger_type=first.messenger_type, text=text))
    keys = gen.conv_keys.setdefault(chat, set())
    stored_keys(text, keys)
    keys |= gen.key_cache.get(value)


def _add_typed_email(gen: _Gen, org: _Org, truth: SubjectTruth, n: int, agent: dict[str, str]) -> None:
    """The subject writes "my other email is X" in a chat, and once wrote from X by email."""
    typed = f"{_ascii(truth.first_name).lower()}.{_ascii(truth.last_name).lower()}.{n}@typed.example.net"
    chat = next(c for c in truth.conversation_ids if c in org.messages)
    _write_in_chat(gen, org, chat, f"My other email is {typed}, please remove that one as well", typed)
    conv, msgs = make_conversation(gen, "email", truth.name, [typed], truth.phones[:1], None, agent)
    truth.conversation_ids.append(org.add_conversation(conv, msgs))
    truth.emails.append(typed)
    truth.typed_emails = [typed]


def _add_mention_elsewhere(gen: _Gen, org: _Org, truth: SubjectTruth, n: int, agent: dict[str, str]) -> None:
    """A friend of the subject chats from their own address and passes the subject's email on: the subject's
    data sits in a conversation where the subject is no participant."""
    first, last = gen.rng.choice(FIRST_NAMES), gen.rng.choice(NOISE_LAST_NAMES)
    conv, msgs = make_conversation(gen, "webmessaging", f"{first} {last}", gen.emails(first, last, 1, ["example.org"]),
                                   [gen.phone()], None, agent)
    chat = org.add_conversation(conv, msgs)
    _write_in_chat(gen, org, chat, f"Could you also update my friend's details? Their email is {truth.emails[0]} "
                                   f"(ref {n})", truth.emails[0])
    truth.mentioned_conversation_ids.append(chat)


def _add_namesake(gen: _Gen, org: _Org, truth: SubjectTruth, n: int, agents: list[dict[str, str]]) -> None:
    """Another person with the subject's name (own email, phone, contact and subject record) who chatted and
    called once: only a GDPR request that names the name reaches them."""
    emails = gen.emails(truth.first_name, truth.last_name, 1, ["example.net"])
    phones = [gen.phone()]
    contact = make_contact(gen, truth.first_name, truth.last_name, emails, phones)
    org.contacts[contact["id"]] = contact
    owner = f"namesake-{n:04d}"
    org.add_record(owner, owner, gdpr_record(truth.name, emails, phones, contact["id"]))
    for kind in ("webmessaging", "voice"):
        conv, msgs = make_conversation(gen, kind, truth.name, emails, phones, contact["id"], gen.rng.choice(agents))
        truth.namesake_conversation_ids.append(org.add_conversation(conv, msgs))


def _shifted(stamp: str, delta: timedelta) -> str:
    return iso(datetime.fromisoformat(stamp.replace("Z", "+00:00")) + delta)


def shift_conversation(data: SeedData, conv_id: str, delta: timedelta) -> None:
    """Move every timestamp of one conversation (segments, messages, recordings) by `delta`."""
    conv = data.conversations[conv_id]
    for key in ("conversationStart", "conversationEnd"):
        if key in conv:
            conv[key] = _shifted(conv[key], delta)
    for part in conv["participants"]:
        for session in part["sessions"]:
            for seg in session.get("segments", []):
                for key in ("segmentStart", "segmentEnd"):
                    if key in seg:
                        seg[key] = _shifted(seg[key], delta)
    for msg in data.messages.get(conv_id, []):
        msg.timestamp = _shifted(msg.timestamp, delta)
    for rec in data.recordings.get(conv_id, []):
        for key in ("startTime", "endTime", "creationTime"):
            if key in rec:
                rec[key] = _shifted(rec[key], delta)


def _former_agents(
    seed: int,
    count: int,
    conversations: dict[str, dict[str, Any]],
    active_ids: set[str],
    users: dict[str, dict[str, Any]],
) -> list[AgentTruth]:
    """Inactive users who handled a few finished conversations each (their own RNG stream)."""
    if count <= 0:
        return []
    frng = random.Random(seed * 7_000_003 + 29)
    names = [(f, l_) for f in FIRST_NAMES for l_ in FORMER_AGENT_LAST_NAMES]
    frng.shuffle(names)
    if count > len(names):
        names += _extra_names(seed + 1, FIRST_NAMES, FORMER_AGENT_LAST_NAMES)
    pool = [cid for cid in conversations if cid not in active_ids]
    wanted = [frng.randint(2, 4) for _ in range(count)]
    picked = frng.sample(pool, min(len(pool), sum(wanted)))
    out = []
    for k in range(count):
        first, last = names[k % len(names)]
        name = f"{first} {last}"
        user_id = _uuid4(frng)
        email = _agent_email(name, k + 1)
        users[user_id] = make_user(user_id, name, email, "inactive")
        truth = AgentTruth(id=f"agent-{k + 1:04d}", user_id=user_id, name=name, email=email)
        mine, picked = picked[: wanted[k]], picked[wanted[k] :]
        for cid in mine:
            for part in conversations[cid]["participants"]:
                if part["purpose"] == "agent":
                    part["userId"] = user_id
                    part["participantName"] = name
            truth.conversation_ids.append(cid)
        out.append(truth)
    return out


def make_recordings(gen: _Gen, conv: dict[str, Any]) -> list[dict[str, Any]]:
    """One recording per recorded customer session: audio for calls, a transcript recording for messaging."""
    out = []
    for part in conv["participants"]:
        if part["purpose"] != "customer":
            continue
        for session in part["sessions"]:
            if not session.get("recording"):
                continue
            rid = gen.uuid()
            media = "audio" if session["mediaType"] == "voice" else "message"
            out.append(
                {
                    "id": rid,
                    "conversationId": conv["conversationId"],
                    "sessionId": session["sessionId"],
                    "startTime": conv["conversationStart"],
                    "endTime": conv["conversationEnd"],
                    "creationTime": conv["conversationEnd"],
                    "media": media,
                    "fileState": "AVAILABLE",
                    "recordingFileRole": "CUSTOMER_EXPERIENCE",
                    "selfUri": f"/api/v2/conversations/{conv['conversationId']}/recordings/{rid}",
                }
            )
    return out
