"""Deterministic synthetic organisation data: subjects, their contacts, conversations and transcripts.

Everything comes from one `random.Random(seed)`, so the same seed gives the same people, identifiers and
texts (only timestamps move with the clock: conversations sit in the 60 days before seeding). Besides the
data subjects the seed adds "noise" people who are never subjects, so queries that do not filter fail tests.

The conversation dicts already have the analytics detail shape (`AnalyticsConversationWithoutAttributes`);
messages are kept per conversation and rendered into the conversations API shapes on request.
"""

from __future__ import annotations

import functools
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers

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


@dataclass
class SubjectTruth:
    """Ground truth about one seeded data subject (what `/_sim/subjects` reveals)."""

    id: str
    name: str
    first_name: str
    last_name: str
    emails: list[str]
    phones: list[str]
    external_contact_id: str
    conversation_ids: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "external_contact_id": self.external_contact_id,
            "conversation_ids": list(self.conversation_ids),
        }


@dataclass
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


def iso(dt: datetime) -> str:
    """Format a UTC datetime the way the platform does: milliseconds and a Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class _Gen:
    """Holds the RNG and the uniqueness sets while one organisation is generated."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_phones: set[str] = set()
        self.email_counter = 0
        self.now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def phone(self) -> str:
        """A unique E.164 number that `phonenumbers` accepts as valid, from GB, US, DE or FR."""
        rng = self.rng
        while True:
            country = rng.choice(["GB", "US", "DE", "FR"])
            if country == "GB":
                number = "+447" + rng.choice("45789") + "".join(rng.choice("0123456789") for _ in range(8))
            elif country == "US":
                area = rng.choice(["212", "415", "617", "312", "206", "303", "512"])
                number = f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            elif country == "DE":
                prefix = rng.choice(["151", "152", "157", "160", "170", "171", "172", "175", "176", "179"])
                number = "+49" + prefix + "".join(rng.choice("0123456789") for _ in range(8))
            else:
                number = "+336" + "".join(rng.choice("0123456789") for _ in range(8))
            if number in self.used_phones:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                self.used_phones.add(number)
                return number

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

    def when(self) -> datetime:
        """A conversation start within the last 60 days (at least an hour ago)."""
        return self.now - timedelta(seconds=self.rng.randint(3600, 60 * 86400))


def _ascii(text: str) -> str:
    return text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("é", "e")


@functools.lru_cache(maxsize=4096)
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


def make_contact(gen: _Gen, first: str, last: str, emails: list[str], phones: list[str]) -> dict[str, Any]:
    """An `ExternalContact` of type Identified carrying the person's emails and phones."""
    cid = gen.uuid()
    created = iso(gen.when())
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
        contact[key] = phone_number_obj(value)
    contact["identifiers"] = [{"type": "Email", "value": e, "dateCreated": created} for e in emails] + [
        {"type": "Phone", "value": p, "dateCreated": created} for p in phones
    ]
    return contact


def _segment(start: datetime, end: datetime, seg_type: str, **extra: Any) -> dict[str, Any]:
    return {"segmentStart": iso(start), "segmentEnd": iso(end), "segmentType": seg_type, **extra}


def make_conversation(
    gen: _Gen,
    media: str,
    name: str,
    emails: list[str],
    phones: list[str],
    contact_id: str | None,
    agent: dict[str, str],
) -> tuple[dict[str, Any], list[StoredMessage]]:
    """One finished conversation of the given kind ("webmessaging", "sms", "voice" or "email")."""
    rng = gen.rng
    conv_id = gen.uuid()
    start = gen.when()
    duration = timedelta(seconds=rng.randint(120, 1800))
    end = start + duration
    customer_pid, acd_pid, agent_pid = gen.uuid(), gen.uuid(), gen.uuid()
    email = rng.choice(emails)
    phone = rng.choice(phones)
    messages: list[StoredMessage] = []

    if media in ("webmessaging", "sms"):
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
        count = rng.randint(3, 6)
        step = duration / (count + 1)
        for i in range(count):
            from_customer = i % 2 == 0
            if from_customer:
                # The first customer line always carries PII so every messaging transcript needs redaction.
                template = CUSTOMER_LINES[0] if i == 0 else rng.choice(CUSTOMER_LINES)
                text = template.format(name=name, email=email, phone=phone, phone_display=phone_display(phone))
            else:
                text = rng.choice(AGENT_LINES)
            messages.append(
                StoredMessage(
                    id=gen.uuid().replace("-", ""),
                    conversation_id=conv_id,
                    participant_id=customer_pid if from_customer else agent_pid,
                    timestamp=iso(start + step * (i + 1)),
                    from_address=customer_addr if from_customer else org_addr,
                    to_address=org_addr if from_customer else customer_addr,
                    direction="inbound" if from_customer else "outbound",
                    messenger_type=media,
                    text=text,
                )
            )
    elif media == "voice":
        cust_session = {
            "mediaType": "voice",
            "ani": f"tel:{phone}",
            "dnis": f"tel:{ORG_VOICE_NUMBER}",
            "remote": name,
            "direction": "inbound",
            "recording": True,
        }
        agent_session = {
            "mediaType": "voice",
            "ani": f"tel:{phone}",
            "dnis": f"tel:{ORG_VOICE_NUMBER}",
            "remote": name,
            "direction": "inbound",
            "recording": True,
        }
    else:  # email
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

    mid = start + duration / 10
    cust_session = {"sessionId": gen.uuid(), **cust_session, "segments": [_segment(start, end, "interact")]}
    acd_session = {
        **{k: v for k, v in cust_session.items() if k not in ("sessionId", "segments", "recording")},
        "sessionId": gen.uuid(),
        "segments": [_segment(start, mid, "interact", queueId=QUEUE_ID)],
    }
    agent_session = {
        "sessionId": gen.uuid(),
        **agent_session,
        "segments": [
            _segment(mid, mid + timedelta(seconds=5), "alert", queueId=QUEUE_ID),
            _segment(mid + timedelta(seconds=5), end, "interact", queueId=QUEUE_ID),
            _segment(end, end + timedelta(seconds=30), "wrapup", queueId=QUEUE_ID),
        ],
    }
    customer: dict[str, Any] = {
        "participantId": customer_pid,
        "participantName": name,
        "purpose": "customer",
        "sessions": [cust_session],
    }
    if contact_id:
        customer["externalContactId"] = contact_id
    conversation = {
        "conversationId": conv_id,
        "conversationStart": iso(start),
        "conversationEnd": iso(end + timedelta(seconds=30)),
        "originatingDirection": "inbound",
        "divisionIds": [HOME_DIVISION_ID],
        "participants": [
            customer,
            {
                "participantId": acd_pid,
                "participantName": "Support Queue",
                "purpose": "acd",
                "sessions": [acd_session],
            },
            {
                "participantId": agent_pid,
                "participantName": agent["name"],
                "purpose": "agent",
                "userId": agent["id"],
                "sessions": [agent_session],
            },
        ],
    }
    return conversation, messages


def generate(subjects: int, seed: int, noise_people: int = 0) -> SeedData:
    """Build a whole organisation from `seed`."""
    gen = _Gen(seed)
    rng = gen.rng
    agents = [{"id": gen.uuid(), "name": n} for n in AGENT_NAMES]
    combos = [(f, l_) for f in FIRST_NAMES for l_ in LAST_NAMES]
    rng.shuffle(combos)
    truths: list[SubjectTruth] = []
    contacts: dict[str, dict[str, Any]] = {}
    conversations: dict[str, dict[str, Any]] = {}
    messages: dict[str, list[StoredMessage]] = {}

    def add_conversation(conv: dict[str, Any], msgs: list[StoredMessage]) -> str:
        conversations[conv["conversationId"]] = conv
        if msgs:
            messages[conv["conversationId"]] = msgs
        return str(conv["conversationId"])

    for i in range(subjects):
        first, last = combos[i % len(combos)]
        name = f"{first} {last}"
        emails = gen.emails(first, last, rng.randint(1, 3), ["example.org", "mail.example.org", "example.org"])
        phones = [gen.phone() for _ in range(rng.randint(1, 2))]
        contact = make_contact(gen, first, last, emails, phones)
        contacts[contact["id"]] = contact
        truth = SubjectTruth(
            id=f"subject-{i + 1:04d}",
            name=name,
            first_name=first,
            last_name=last,
            emails=emails,
            phones=phones,
            external_contact_id=contact["id"],
        )
        n_conv = rng.randint(2, 4)
        kinds = ["webmessaging"] + [rng.choice(["webmessaging", "sms", "voice", "email"]) for _ in range(n_conv - 1)]
        for kind in kinds:
            linked = kind == "webmessaging" or rng.random() < 0.7
            conv, msgs = make_conversation(gen, kind, name, emails, phones, contact["id"] if linked else None, rng.choice(agents))
            truth.conversation_ids.append(add_conversation(conv, msgs))
        truths.append(truth)

    for j in range(noise_people or subjects):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(NOISE_LAST_NAMES)
        emails = gen.emails(first, last, rng.randint(1, 2), ["example.com", "example.net"])
        phones = [gen.phone()]
        contact_id = None
        if j % 2 == 0:
            contact = make_contact(gen, first, last, emails, phones)
            contacts[contact["id"]] = contact
            contact_id = contact["id"]
        for _ in range(rng.randint(1, 2)):
            kind = rng.choice(["webmessaging", "sms", "voice", "email"])
            conv, msgs = make_conversation(gen, kind, f"{first} {last}", emails, phones, contact_id, rng.choice(agents))
            add_conversation(conv, msgs)

    # Recordings come last so adding them did not change any earlier draw of the RNG.
    recordings = {cid: make_recordings(gen, conv) for cid, conv in conversations.items()}
    return SeedData(
        subjects=truths,
        contacts=contacts,
        conversations=conversations,
        messages=messages,
        agents=agents,
        recordings={cid: recs for cid, recs in recordings.items() if recs},
    )


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
