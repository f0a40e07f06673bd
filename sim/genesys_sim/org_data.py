"""The organisation's records (`OrgData`), what a finished GDPR request does to them, and where values still appear.

Pure functions over `OrgData`; `organisation.OrgStore` calls them under its lock. Keeping the effects and the search
(`find`) side by side makes it obvious that `/_sim/find` checks exactly the places an erasure scrubs.

`OrgData` also keeps one `ValueIndex` per kind of record (conversations with their messages, external
contacts, GDPR subject records, users, and the ground truth), so erasing or finding a few values costs
in proportion to the records that hold them, not to the size of the organisation. Every function below
asks the index for candidates and then applies the same field-by-field rules as before.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .index import ExactIndex, KeyCache, ValueIndex
from .matching import anonymised, same_value, text_contains, text_replace
from .seed import SeedData, iso

# Session fields that may hold a person's identifiers.
SESSION_PII_FIELDS = ("addressFrom", "addressTo", "ani", "dnis", "sessionDnis", "remote", "addressSelf", "addressOther",
                      "journeyCustomerId")
PARTICIPANT_PII_FIELDS = ("participantName", "externalContactId")
CONTACT_EMAIL_FIELDS = ("workEmail", "personalEmail", "otherEmail")
CONTACT_PHONE_FIELDS = ("cellPhone", "homePhone", "workPhone", "otherPhone")
USER_FIELDS = ("id", "name", "email", "username")
# Analytics dimensions read from the fields the conversation index covers (see `conversation_strings`).
INDEXED_DIMENSIONS = frozenset(
    {*SESSION_PII_FIELDS, "participantName", "externalContactId", "canonicalExternalContactId", "userId"}
)


def conversation_strings(conv: dict[str, Any]) -> list[str]:
    """Every field of a conversation that can identify someone (participant and session fields)."""
    out: list[str] = []
    add = out.append
    for part in conv["participants"]:
        for key in ("participantName", "externalContactId", "userId"):
            value = part.get(key)
            if value.__class__ is str:
                add(value)
        for session in part["sessions"]:
            get = session.get
            for key in SESSION_PII_FIELDS:
                value = get(key)
                if value.__class__ is str:
                    add(value)
    return out


def message_strings(msgs: list[Any] | None) -> tuple[list[str], list[str]]:
    """(address fields, texts) of a conversation's messages."""
    if not msgs:
        return [], []
    return [a for m in msgs for a in (m.from_address, m.to_address)], [m.text for m in msgs]


def record_strings(record: dict[str, Any]) -> list[str | None]:
    return [
        record.get("name"),
        record.get("externalContactId"),
        *(record.get("emailAddresses") or []),
        *(record.get("phoneNumbers") or []),
        *(record.get("addresses") or []),
    ]


def user_strings(user: dict[str, Any]) -> list[str | None]:
    return [user.get(k) for k in USER_FIELDS]


@dataclass
class OrgData:
    """The mutable state of an organisation: the seed, the GDPR subject records and the indexes over them."""

    seed: SeedData
    # GDPRSubject-shaped records keyed by record id (one per contact of a subject; recycled numbers' new
    # owners too); erasure removes values from them.
    subject_index: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_owner: dict[str, str] = field(default_factory=dict)
    conv_index: ValueIndex = field(default_factory=ValueIndex)
    contact_index: ExactIndex = field(default_factory=ExactIndex)
    record_index: ExactIndex = field(default_factory=ExactIndex)
    user_index: ExactIndex = field(default_factory=ExactIndex)
    truth_index: ExactIndex = field(default_factory=ExactIndex)
    # Position of each record in its seeded order, so answers built from candidate sets keep a stable order.
    conv_pos: dict[str, int] = field(default_factory=dict)
    contact_pos: dict[str, int] = field(default_factory=dict)
    record_pos: dict[str, int] = field(default_factory=dict)
    # Ground truth (subjects, then former agents) by id, in order, with the values that identify each.
    truth_order: dict[str, int] = field(default_factory=dict)
    truth_values: dict[str, list[str]] = field(default_factory=dict)
    # Conversations in progress and the monotonic time at which they all end.
    active_ids: set[str] = field(default_factory=set)
    active_until: float = 0.0
    # Called with (conversation id, conversation) just before a GDPR request changes it (async job snapshots).
    before_change: Callable[[str, dict[str, Any]], None] | None = None

    @classmethod
    def from_seed(cls, seed: SeedData, active_until: float = 0.0) -> OrgData:
        if seed.gdpr_records:
            records = {
                rid: {**r, **{k: list(r[k]) for k in ("emailAddresses", "phoneNumbers", "addresses")}}
                for rid, r in seed.gdpr_records.items()
            }
            owners = dict(seed.record_owner)
        else:  # a SeedData built by hand: one record per subject
            records = {
                s.id: {
                    "name": s.name,
                    "emailAddresses": list(s.emails),
                    "phoneNumbers": list(s.phones),
                    "externalContactId": s.external_contact_id,
                    "addresses": [],
                }
                for s in seed.subjects
            }
            owners = {s.id: s.id for s in seed.subjects}
        normal: dict[str, str] = {}  # normalised values, shared while the exact indexes are built
        data = cls(
            seed=seed,
            subject_index=records,
            record_owner=owners,
            conv_index=ValueIndex(cache=seed.key_cache or KeyCache()),
            contact_index=ExactIndex(normal),
            record_index=ExactIndex(normal),
            user_index=ExactIndex(normal),
            truth_index=ExactIndex(normal),
        )
        data.active_ids = set(seed.active_conversation_ids)
        data.active_until = active_until
        data.conv_pos = {cid: pos for pos, cid in enumerate(seed.conversations)}
        messages = seed.messages

        docs: list[tuple[str, set[str] | frozenset[str]]] = []
        known = seed.conv_keys
        conv_index = data.conv_index
        for cid, conv in seed.conversations.items():
            keys = known.get(cid)
            if keys is None:  # not filed by the seed: tokenise what it holds
                addresses, texts = message_strings(messages.get(cid))
                keys = conv_index._keys(conversation_strings(conv) + addresses, texts)
            docs.append((cid, keys))
        conv_index.load_keys(docs)
        data.contact_pos = {cid: pos for pos, cid in enumerate(seed.contacts)}
        data.contact_index.load(
            (cid, [v for f, v in _contact_values(c) if f not in ("firstName", "lastName")]) for cid, c in seed.contacts.items()
        )
        data.record_pos = {rid: pos for pos, rid in enumerate(records)}
        data.record_index.load((rid, record_strings(r)) for rid, r in records.items())
        data.user_index.load((uid, user_strings(u)) for uid, u in seed.users.items())
        truths = [
            (s.id, [*s.emails, *s.phones, *(s.external_contact_ids or [s.external_contact_id]), s.name]) for s in seed.subjects
        ]
        truths += [(a.id, [a.user_id, a.name, a.email]) for a in seed.former_agents]
        for tid, values in truths:
            data.truth_order[tid] = len(data.truth_order)
            data.truth_values[tid] = values
        data.truth_index.load(truths)
        normal.clear()  # only needed while building; later additions normalise afresh
        return data

    def _changing(self, conv_id: str) -> None:
        if self.before_change is not None:
            self.before_change(conv_id, self.seed.conversations[conv_id])

    # ------------------------------------------------------------------ in-progress conversations
    def is_active(self, conv_id: str, now: float | None = None) -> bool:
        """Whether the conversation is still in progress (no conversationEnd yet)."""
        if conv_id not in self.active_ids:
            return False
        return (time.monotonic() if now is None else now) < self.active_until

    def active_now(self, now: float | None = None) -> set[str]:
        now = time.monotonic() if now is None else now
        return set(self.active_ids) if now < self.active_until else set()

    # ------------------------------------------------------------------ candidates
    def conversations_for(self, values: Iterable[str]) -> list[str]:
        """Ids of conversations that may hold any of `values`, in seeded order."""
        found = self.conv_index.candidates_any(values)
        convs = self.seed.conversations
        if found is None:
            return list(convs)
        return sorted((c for c in found if c in convs), key=self.conv_pos.__getitem__)

    def conversations_with(self, values: list[str]) -> list[tuple[str, list[str]]]:
        """(conversation id, the values it may hold, in the order given), in seeded order: each conversation
        is then checked only for the values that can be in it."""
        convs = self.seed.conversations
        wanted: dict[str, list[str]] = {}
        for value in values:
            found = self.conv_index.candidates(value)
            for cid in convs if found is None else found:
                wanted.setdefault(cid, []).append(value)
        pos = self.conv_pos
        return sorted(((c, vs) for c, vs in wanted.items() if c in convs), key=lambda item: pos[item[0]])

    def contacts_for(self, values: Iterable[str]) -> list[str]:
        found = self.contact_index.candidates_any(values)
        contacts = self.seed.contacts
        if found is None:
            return list(contacts)
        return sorted((c for c in found if c in contacts), key=self.contact_pos.__getitem__)

    def records_for(self, values: Iterable[str]) -> list[str]:
        found = self.record_index.candidates_any(values)
        if found is None:
            return list(self.subject_index)
        return sorted((r for r in found if r in self.subject_index), key=self.record_pos.__getitem__)

    def users_for(self, values: Iterable[str]) -> list[str]:
        found = self.user_index.candidates_any(values)
        users = self.seed.users
        if found is None:
            return list(users)
        return [u for u in users if u in found]

    def _index_conversation(self, conv_id: str, conv: dict[str, Any]) -> None:
        addresses, texts = message_strings(self.seed.messages.get(conv_id))
        self.conv_index.add(conv_id, conversation_strings(conv) + addresses, texts)

    def reindex_conversation(self, conv_id: str) -> None:
        conv = self.seed.conversations.get(conv_id)
        if conv is not None:
            self._index_conversation(conv_id, conv)

    def match_truth(self, wanted: list[str]) -> str:
        """Earliest ground-truth subject (or former agent) that any of `wanted` identifies, or "unknown"."""
        best: str | None = None
        for value in wanted:
            found = self.truth_index.candidates(value)
            for tid in self.truth_order if found is None else found:
                if best is not None and self.truth_order[tid] >= self.truth_order[best]:
                    continue
                if any(same_value(k, value) for k in self.truth_values[tid]):
                    best = tid
        return best or "unknown"


def live_view(conv: dict[str, Any], now_iso: str) -> dict[str, Any]:
    """A copy of an ongoing conversation as it looks at `now_iso`: no conversationEnd, no segments that have
    not started, and no end on segments still running."""
    out = copy.deepcopy(conv)
    out.pop("conversationEnd", None)
    for part in out["participants"]:
        for session in part["sessions"]:
            segments = [s for s in session.get("segments", []) if s.get("segmentStart", "") <= now_iso]
            for seg in segments:
                if seg.get("segmentEnd", "") > now_iso:
                    seg.pop("segmentEnd", None)
            session["segments"] = segments
    return out


def conversation_view(data: OrgData, conv_id: str) -> dict[str, Any] | None:
    """A copy of one conversation as the platform shows it right now (ongoing ones without their end)."""
    conv = data.seed.conversations.get(conv_id)
    if conv is None:
        return None
    if data.is_active(conv_id):
        return live_view(conv, iso(datetime.now(UTC)))
    return copy.deepcopy(conv)


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


def _conversation_holds(conv: dict[str, Any], msgs: Iterable[Any], values: list[str]) -> bool:
    """Whether any of `values` is in the conversation (a cheap test before copying it for job snapshots)."""
    for part in conv["participants"]:
        for key in (*PARTICIPANT_PII_FIELDS, "userId"):
            stored = part.get(key)
            if stored and any(_field_holds(stored, v) for v in values):
                return True
        for session in part["sessions"]:
            for key in SESSION_PII_FIELDS:
                stored = session.get(key)
                if stored and any(_field_holds(stored, v) for v in values):
                    return True
    for msg in msgs:
        for v in values:
            if text_contains(msg.text, v) or same_value(msg.from_address, v) or same_value(msg.to_address, v):
                return True
    return False


def apply_delete(data: OrgData, subject: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()) -> None:
    """Erase every value of `subject` from the organisation (what a completed GDPR_DELETE does).

    Conversations in `skip` (those still in progress when the request was made) are left as they are. A
    `userId` also anonymises the name of that user's agent participants.
    """
    values = subject_values(subject)
    if not values:
        return
    user_id = str(subject.get("userId") or "")
    for cid, held in data.conversations_with(values):
        if cid in skip or data.is_active(cid):
            continue
        conv = data.seed.conversations[cid]
        msgs = data.seed.messages.get(cid, ())
        if not _conversation_holds(conv, msgs, held):
            continue
        data._changing(cid)
        changed = False
        for part in conv["participants"]:
            if user_id and same_value(part.get("userId"), user_id) and part.get("participantName"):
                part["participantName"] = anonymised(part["participantName"])
                changed = True
            for key in (*PARTICIPANT_PII_FIELDS, "userId"):
                for v in held:
                    if key in part and _field_holds(part[key], v):
                        part[key] = anonymised(v)
                        changed = True
            for session in part["sessions"]:
                for key in SESSION_PII_FIELDS:
                    for v in held:
                        if key in session and _field_holds(session[key], v):
                            session[key] = anonymised(v)
                            changed = True
        for msg in msgs:
            for v in held:
                if text_contains(msg.text, v):
                    msg.text = text_replace(msg.text, v, anonymised(v))
                    changed = True
                if same_value(msg.from_address, v):
                    msg.from_address = anonymised(v)
                    changed = True
                if same_value(msg.to_address, v):
                    msg.to_address = anonymised(v)
                    changed = True
        if changed:
            data.reindex_conversation(cid)

    for cid in data.contacts_for(values):
        if any(_contact_matches(data.seed.contacts[cid], v) for v in values):
            del data.seed.contacts[cid]
    for rid in data.records_for(values):
        record = data.subject_index[rid]
        for key in ("emailAddresses", "phoneNumbers", "addresses"):
            record[key] = [x for x in record[key] if not any(same_value(x, v) for v in values)]
        for key in ("name", "externalContactId"):
            if record.get(key) and any(same_value(record[key], v) for v in values):
                record[key] = None


def apply_update(data: OrgData, terms: list[dict[str, Any]], skip: set[str] | frozenset[str] = frozenset(),
                 contacts: bool = True) -> None:
    """Rewrite each `existingValue` to its `updatedValue` (what a completed GDPR_UPDATE does); conversations
    in `skip` (in progress when the request was made) are left as they are."""
    for term in terms:
        old, new = str(term.get("existingValue") or ""), str(term.get("updatedValue") or "")
        if not old:
            continue
        for cid in data.conversations_for([old]):
            if cid in skip or data.is_active(cid):
                continue
            conv = data.seed.conversations[cid]
            if not _conversation_holds(conv, data.seed.messages.get(cid, ()), [old]):
                continue
            data._changing(cid)
            for part in conv["participants"]:
                for key in PARTICIPANT_PII_FIELDS:
                    if key in part and same_value(part[key], old):
                        part[key] = new
                for session in part["sessions"]:
                    for key in SESSION_PII_FIELDS:
                        if key in session and same_value(session[key], old):
                            session[key] = new
            for msg in data.seed.messages.get(cid, ()):
                msg.text = text_replace(msg.text, old, new)
                if same_value(msg.from_address, old):
                    msg.from_address = new
                if same_value(msg.to_address, old):
                    msg.to_address = new
            data.reindex_conversation(cid)
        if contacts:  # SimConfig.gdpr_update_reaches_contacts
            _update_contacts(data, old, new)
            _update_records(data, old, new)


def _update_contacts(data: OrgData, old: str, new: str) -> None:
    """External contacts holding `old` in an email or phone field get `new` there (issue 17: a GDPR_UPDATE
    replaces values in conversations, messages and contacts). Whether the platform's update reaches
    external contacts is UNCONFIRMED (genesys-api.md A names no data stores); the client deletes them anyway
    by default. The new value is indexed too, so a search for the placeholder finds the contact."""
    for cid in data.contacts_for([old]):
        contact = data.seed.contacts[cid]
        fields = _contact_matches(contact, old)
        for key in fields:
            if key in CONTACT_EMAIL_FIELDS:
                contact[key] = new
            elif key.split(".")[0] in CONTACT_PHONE_FIELDS:
                contact[key.split(".")[0]] = {**contact[key.split(".")[0]], "e164": new, "display": new}
            elif key.startswith("identifiers["):
                contact["identifiers"][int(key[len("identifiers["):key.index("]")])]["value"] = new
        if fields:
            data.contact_index.add(cid, [new])


def _update_records(data: OrgData, old: str, new: str) -> None:
    """The records the GDPR subject search answers from are rewritten likewise (ASSUMED: the search reads
    the data the update rewrote), so the old value no longer finds the subject."""
    for rid in data.records_for([old]):
        record = data.subject_index[rid]
        changed = False
        for key in ("emailAddresses", "phoneNumbers", "addresses"):
            if any(same_value(x, old) for x in record[key]):
                record[key] = [new if same_value(x, old) else x for x in record[key]]
                changed = True
        for key in ("name", "externalContactId"):
            if record.get(key) and same_value(record[key], old):
                record[key] = new
                changed = True
        if changed:
            data.record_index.add(rid, [new])


def find(data: OrgData, values: list[str]) -> list[dict[str, Any]]:
    """Every place in the organisation where any of `values` still appears.

    Kinds: conversation (participant and session fields), message (text and addresses), external_contact,
    gdpr_subject (the records subject search answers from) and user (users that are not deleted).
    """
    values = [v for v in values if v and str(v).strip()]
    conv_hits: list[dict[str, Any]] = []
    msg_hits: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []

    def hit(out: list[dict[str, Any]], kind: str, id_: str, fld: str, value: str, **extra: Any) -> None:
        out.append({"kind": kind, "id": id_, "field": fld, "value": value, **extra})

    if not values:
        return []
    for cid, held in data.conversations_with(values):
        conv = data.seed.conversations[cid]
        for pi, part in enumerate(conv["participants"]):
            for key in (*PARTICIPANT_PII_FIELDS, "userId"):
                for v in held:
                    if _field_holds(part.get(key), v):
                        hit(conv_hits, "conversation", cid, f"participants[{pi}].{key}", v)
            for si, session in enumerate(part["sessions"]):
                for key in SESSION_PII_FIELDS:
                    for v in held:
                        if _field_holds(session.get(key), v):
                            hit(conv_hits, "conversation", cid, f"participants[{pi}].sessions[{si}].{key}", v)
        for msg in data.seed.messages.get(cid, ()):
            for v in held:
                if text_contains(msg.text, v):
                    hit(msg_hits, "message", msg.id, "text", v, conversation_id=cid)
                if same_value(msg.from_address, v):
                    hit(msg_hits, "message", msg.id, "fromAddress", v, conversation_id=cid)
                if same_value(msg.to_address, v):
                    hit(msg_hits, "message", msg.id, "toAddress", v, conversation_id=cid)
    for cid in data.contacts_for(values):
        contact = data.seed.contacts[cid]
        for v in values:
            for fld in _contact_matches(contact, v):
                hit(other, "external_contact", cid, fld, v)
    for rid in data.records_for(values):
        record = data.subject_index[rid]
        for v in values:
            for key in ("name", "externalContactId"):
                if same_value(record.get(key), v):
                    hit(other, "gdpr_subject", rid, key, v)
            for key in ("emailAddresses", "phoneNumbers", "addresses"):
                if any(same_value(x, v) for x in record[key]):
                    hit(other, "gdpr_subject", rid, key, v)
    for uid in data.users_for(values):
        user = data.seed.users[uid]
        if user.get("state") == "deleted":
            continue
        for v in values:
            for key in USER_FIELDS:
                if same_value(user.get(key), v):
                    hit(other, "user", uid, key, v)
    return conv_hits + msg_hits + other
