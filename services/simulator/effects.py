"""What a finished GDPR request does to the organisation's data, and where values still appear.

Pure functions over `OrgData`; the store calls them under its lock. Keeping the effects and the search
(`find`) side by side makes it obvious that `/_sim/find` checks exactly the places an erasure scrubs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .matching import anonymised, same_value, text_contains, text_replace
from .seed import SeedData

# Session fields that may hold a person's identifiers.
SESSION_PII_FIELDS = ("addressFrom", "addressTo", "ani", "dnis", "sessionDnis", "remote", "addressSelf", "addressOther")
PARTICIPANT_PII_FIELDS = ("participantName", "externalContactId")
CONTACT_EMAIL_FIELDS = ("workEmail", "personalEmail", "otherEmail")
CONTACT_PHONE_FIELDS = ("cellPhone", "homePhone", "workPhone", "otherPhone")


@dataclass
class OrgData:
    """The mutable state of an organisation: the seed plus the GDPR subject index."""

    seed: SeedData
    # One GDPRSubject-shaped record per seeded subject, keyed by subject id; erasure removes values from it.
    subject_index: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed: SeedData) -> OrgData:
        index = {
            s.id: {
                "name": s.name,
                "emailAddresses": list(s.emails),
                "phoneNumbers": list(s.phones),
                "externalContactId": s.external_contact_id,
                "addresses": [],
            }
            for s in seed.subjects
        }
        return cls(seed=seed, subject_index=index)


def subject_values(subject: dict[str, Any]) -> list[str]:
    """Every identifying value of a GDPRSubject body, longest first (so an email is replaced before a name)."""
    values: list[str] = []
    for key in ("name", "externalContactId", "externalId", "userId"):
        if subject.get(key):
            values.append(str(subject[key]))
    for key in ("emailAddresses", "phoneNumbers", "addresses"):
        values.extend(str(v) for v in subject.get(key) or [] if v)
    journey = subject.get("journeyCustomer") or {}
    if journey.get("id"):
        values.append(str(journey["id"]))
    social = subject.get("socialHandle") or {}
    if social.get("value"):
        values.append(str(social["value"]))
    return sorted(set(values), key=len, reverse=True)


def _field_holds(stored: Any, value: str) -> bool:
    return isinstance(stored, str) and (same_value(stored, value) or text_contains(stored, value))


def _contact_values(contact: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value) pairs of an external contact that can identify a person."""
    pairs: list[tuple[str, str]] = [("id", contact["id"])]
    name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
    if name:
        pairs.append(("name", name))
    for key in ("firstName", "lastName"):
        if contact.get(key):
            pairs.append((key, contact[key]))
    for key in CONTACT_EMAIL_FIELDS:
        if contact.get(key):
            pairs.append((key, contact[key]))
    for key in CONTACT_PHONE_FIELDS:
        phone = contact.get(key)
        if phone:
            pairs.append((f"{key}.e164", phone.get("e164", "")))
            pairs.append((f"{key}.display", phone.get("display", "")))
    for i, ident in enumerate(contact.get("identifiers") or []):
        pairs.append((f"identifiers[{i}].value", ident.get("value", "")))
    return pairs


def _contact_matches(contact: dict[str, Any], value: str) -> list[str]:
    """Fields of a contact holding `value`; a single first or last name alone never counts as a match."""
    return [f for f, v in _contact_values(contact) if f not in ("firstName", "lastName") and same_value(v, value)]


def apply_delete(data: OrgData, subject: dict[str, Any]) -> None:
    """Erase every value of `subject` from the organisation (what a completed GDPR_DELETE does)."""
    values = subject_values(subject)
    if not values:
        return
    for conv in data.seed.conversations.values():
        for part in conv["participants"]:
            for key in (*PARTICIPANT_PII_FIELDS, "userId"):
                for v in values:
                    if key in part and _field_holds(part[key], v):
                        part[key] = anonymised(v)
            for session in part["sessions"]:
                for key in SESSION_PII_FIELDS:
                    for v in values:
                        if key in session and _field_holds(session[key], v):
                            session[key] = anonymised(v)
    for msgs in data.seed.messages.values():
        for msg in msgs:
            for v in values:
                msg.text = text_replace(msg.text, v, anonymised(v))
                if same_value(msg.from_address, v):
                    msg.from_address = anonymised(v)
                if same_value(msg.to_address, v):
                    msg.to_address = anonymised(v)
    for cid in [c["id"] for c in data.seed.contacts.values() if any(_contact_matches(c, v) for v in values)]:
        del data.seed.contacts[cid]
    for record in data.subject_index.values():
        for key in ("emailAddresses", "phoneNumbers", "addresses"):
            record[key] = [x for x in record[key] if not any(same_value(x, v) for v in values)]
        for key in ("name", "externalContactId"):
            if record.get(key) and any(same_value(record[key], v) for v in values):
                record[key] = None


def apply_update(data: OrgData, terms: list[dict[str, Any]]) -> None:
    """Rewrite each `existingValue` to its `updatedValue` (what a completed GDPR_UPDATE does)."""
    for term in terms:
        old, new = str(term.get("existingValue") or ""), str(term.get("updatedValue") or "")
        if not old:
            continue
        for conv in data.seed.conversations.values():
            for part in conv["participants"]:
                for key in PARTICIPANT_PII_FIELDS:
                    if key in part and same_value(part[key], old):
                        part[key] = new
                for session in part["sessions"]:
                    for key in SESSION_PII_FIELDS:
                        if key in session and same_value(session[key], old):
                            session[key] = new
        for msgs in data.seed.messages.values():
            for msg in msgs:
                msg.text = text_replace(msg.text, old, new)
                if same_value(msg.from_address, old):
                    msg.from_address = new
                if same_value(msg.to_address, old):
                    msg.to_address = new


def find(data: OrgData, values: list[str]) -> list[dict[str, Any]]:
    """Every place in the organisation where any of `values` still appears."""
    matches: list[dict[str, Any]] = []
    values = [v for v in values if v and str(v).strip()]

    def hit(kind: str, id_: str, fld: str, value: str, **extra: Any) -> None:
        matches.append({"kind": kind, "id": id_, "field": fld, "value": value, **extra})

    for conv in data.seed.conversations.values():
        cid = conv["conversationId"]
        for pi, part in enumerate(conv["participants"]):
            for key in (*PARTICIPANT_PII_FIELDS, "userId"):
                for v in values:
                    if _field_holds(part.get(key), v):
                        hit("conversation", cid, f"participants[{pi}].{key}", v)
            for si, session in enumerate(part["sessions"]):
                for key in SESSION_PII_FIELDS:
                    for v in values:
                        if _field_holds(session.get(key), v):
                            hit("conversation", cid, f"participants[{pi}].sessions[{si}].{key}", v)
    for cid, msgs in data.seed.messages.items():
        for msg in msgs:
            for v in values:
                if text_contains(msg.text, v):
                    hit("message", msg.id, "text", v, conversation_id=cid)
                if same_value(msg.from_address, v):
                    hit("message", msg.id, "fromAddress", v, conversation_id=cid)
                if same_value(msg.to_address, v):
                    hit("message", msg.id, "toAddress", v, conversation_id=cid)
    for contact in data.seed.contacts.values():
        for v in values:
            for fld in _contact_matches(contact, v):
                hit("external_contact", contact["id"], fld, v)
    for sid, record in data.subject_index.items():
        for v in values:
            for key in ("name", "externalContactId"):
                if same_value(record.get(key), v):
                    hit("gdpr_subject", sid, key, v)
            for key in ("emailAddresses", "phoneNumbers", "addresses"):
                if any(same_value(x, v) for x in record[key]):
                    hit("gdpr_subject", sid, key, v)
    return matches
