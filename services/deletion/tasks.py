"""Deletion pool: the step that cannot be undone, done exactly once, only when approved, never on hold.

For each request of a batch, in this order:

1. the approval gate (retention purges carry their standing policy as the approval; a person's approval
   counts only for the scope it was given against: ``shared.approval_scope``);
2. a legal hold on the subject keeps everything back: the request goes to HELD with the hold's
   reason and basis, nothing is submitted (``erasure release-held`` resumes it once the hold ends);
3. the GDPR_DELETEs: one with every email, phone, the user id, the first external contact and journey
   cookie, and one more per further contact or cookie (``gdpr_subjects_for``: the subject holds one of
   each); only then the external contacts they name (the whole batch's in bulk calls, see
   ``services.deletion.contacts``) and a former agent's user, so no identifier a GDPR request names is
   gone from the platform before the request is submitted;
4. recording DELETE jobs for the conversations that have recordings, minus held ones (register and
   platform deletion protection, read right before the call): see ``services.deletion.recording_deletion``.
5. the requests now in POLLING are handed to the polling pool by task name (``POLL_START_TASK``).

Each platform side effect goes through the effect ledger (``EffectLedger.once``): an intent before the
call, the platform's id after it. A redelivered task that finds an intent without an id reconciles against the
platform's own list (GDPR requests by our name, recording jobs by their query) before it would submit
again; a DELETE is reconciled by making it again (404 means the first one went through: success).
A *first* GDPR_DELETE or recording job is looked for on the platform too, since Redis may have lost
its intent with the last second of writes: the batch syncs an index of the platform's GDPR requests
once before its loop (``services.deletion.gdpr_index``), recording jobs are looked for by their
conversations (``services.deletion.recording_deletion``).
A 409 is never retried: what blocked it (the platform's error code) is recorded, the rest of the
request goes ahead, and the request ends PARTIAL naming it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from services.deletion.contacts import ContactsOutcome, delete_contacts
from services.deletion.gdpr_index import GdprRequests, gdpr_request_name
from services.deletion.holds import hold_reason, subject_withheld
from services.deletion.recording_deletion import delete_recordings, find_recording_scope
from shared.anonymise import replacement_terms
from shared.approval_gate import release_if_approved
from shared.approval_scope import approval_holds
from shared.effects import DELETED, AlreadyGone, Blocked, Done, Outcome, Via
from shared.errors import RunLater
from shared.genesys import GenesysClient
from shared.genesys.models import GdprJourneyCustomer, GdprSubject
from shared.lanes import send_ids
from shared.models import ErasureRecord, RequestKind, RequestState, utcnow
from shared.pipeline import erasure_task, handing_on, isolated, load, moved_on, transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, POLL_START_TASK

log = logging.getLogger("erasure.deletion")

GDPR_DELETE = "gdpr_delete"
#: The ledger effect of an anonymise request's one GDPR_UPDATE (its platform name: ``erasure-<request id>``).
GDPR_UPDATE = "gdpr_update"
USER_DELETE = "user_delete"
#: Our own rule, not the platform's: an active user is never deleted (the request ends PARTIAL naming it).
USER_ACTIVE = "user.still.active"
#: ``GDPRJourneyCustomer.type`` of a web-messaging guest's journey cookie (the SDK's example value).
JOURNEY_COOKIE = "cookie"


def gdpr_subjects_for(record: ErasureRecord) -> list[GdprSubject]:
    """What this request's GDPR_DELETEs name: one request, or one more per further contact or cookie.

    ``externalContactId`` is a single string and ``journeyCustomer`` a single cookie (SDK ``GDPRSubject``),
    so a subject known under two contacts, or two browsers, needs two requests: the first carries every
    email, phone and the user id with the first contact and cookie; each further one a contact id and a
    cookie (paired in order, either may be absent). A name goes only when the operator opted in at intake
    (``erase_by_name``), only on the first, and never alone: the platform searches by it, and a common
    name reaches namesakes."""
    identity = record.erasable_identity
    contacts, cookies = identity.external_contact_ids, identity.cookie_ids
    certain = bool(identity.emails or identity.phones or contacts or cookies or identity.user_id)
    subjects = [GdprSubject(
        name=identity.names[0] if record.erase_by_name and certain and identity.names else None,
        emailAddresses=identity.emails,
        phoneNumbers=identity.phones,
        externalContactId=contacts[0] if contacts else None,
        journeyCustomer=_journey(cookies[0]) if cookies else None,
        userId=identity.user_id,
    )]
    for n in range(1, max(len(contacts), len(cookies))):
        subjects.append(GdprSubject(externalContactId=contacts[n] if n < len(contacts) else None,
                                    journeyCustomer=_journey(cookies[n]) if n < len(cookies) else None))
    return subjects


def _journey(cookie_id: str) -> GdprJourneyCustomer:
    return GdprJourneyCustomer(type=JOURNEY_COOKIE, id=cookie_id)


def gdpr_subject_for(record: ErasureRecord) -> GdprSubject:
    """The first (or only) GDPR_DELETE of this request: every email, phone, the user id, a name on opt-in."""
    return gdpr_subjects_for(record)[0]


def gdpr_effect(request_id: str, subject: GdprSubject, first: bool) -> tuple[str, str]:
    """The ledger effect and the platform-side name of one of a request's GDPR_DELETEs. The first keeps
    the names it always had; a further one is told apart by a hash of the contact and cookie it names
    (stable across deliveries, no identifier in clear in effect keys or on the platform)."""
    if first:
        return GDPR_DELETE, gdpr_request_name(request_id)
    named = f"{subject.external_contact_id or ''}\x1f{subject.journey_customer.id if subject.journey_customer else ''}"
    suffix = hashlib.sha256(named.encode()).hexdigest()[:16]
    return f"{GDPR_DELETE}:{suffix}", f"{gdpr_request_name(request_id)}-{suffix}"


def names_sent(record: ErasureRecord) -> bool:
    """Whether this request's GDPR_DELETE carries a name (for the certificate)."""
    return gdpr_subject_for(record).name is not None


@erasure_task(DELETE_TASK)
def erase(runtime: Runtime, request_ids: list[str]) -> None:
    from services.deletion.export import export_access_requests  # it builds on this module's GDPR subjects

    client = runtime.genesys("deletion")
    # Access requests export, delete nothing: their own path (``services.deletion.export``), the rest erase.
    loaded = load(runtime, request_ids, RequestState.DELETING)  # read once, for both paths
    access = [r for r in loaded if r.kind is RequestKind.ACCESS]
    export_access_requests(runtime, client, access)
    taken = {r.request_id for r in access}
    request_ids = [i for i in request_ids if i not in taken]  # the rest, in DELETING or moved on by a killed delivery
    cleared: list[ErasureRecord] = []  # approved, and no hold on the subject
    for record in (r for r in loaded if r.request_id not in taken):
        with isolated(runtime, record, "deletion"):
            if runtime.settings.require_approval and not approval_holds(runtime.settings.require_hmac_key(), record):
                # The gate holds even if a task was sent here by mistake: nothing is deleted unapproved, nor
                # under an approval given against another scope (which the gate then supersedes).
                transition(runtime, record.request_id, RequestState.AWAITING_APPROVAL,
                           "deletion.refused_unapproved",
                           details={"approval": "none" if record.approval is None else "scope_changed"})
                release_if_approved(runtime, record.request_id)
                continue
            if record.recording_round == 0 and withhold_held_subject(runtime, record):
                continue
            cleared.append(record)
    listed = gdpr_requests(runtime, client, cleared)  # one sync of the platform's GDPR requests for the batch
    # Even when a later request raises, the submitted ones go to the polling pool: they are in POLLING now,
    # and a retry loads only DELETING. It follows their GDPR requests and recording jobs. Those a killed
    # delivery of this batch moved to POLLING and never handed on go with them.
    submitted = moved_on(runtime, request_ids, RequestState.POLLING)
    waiting: list[str] = []
    countdown = 0.0
    with handing_on(POLL_START_TASK, submitted):
        # The GDPR_DELETEs first, then the contacts they name: the platform's GDPR search looks for the
        # subject by its identifiers, and a contact deleted before the request that names it may no longer
        # lead the search to the contact's data (ASSUMED; README "Differences from ...").
        gdpr: dict[str, GdprOutcome] = {}
        for record in cleared:
            if record.recording_round == 0 and only_a_name(record):
                refuse_name_only(runtime, record)
                continue
            if record.recording_round == 0 and nothing_to_replace(record):
                refuse_nothing_to_replace(runtime, record)
                continue
            with isolated(runtime, record, "deletion"):
                if record.recording_round != 0:
                    gdpr[record.request_id] = GdprOutcome(list(record.gdpr_request_ids))
                elif record.kind is RequestKind.ANONYMISE:
                    gdpr[record.request_id] = submit_gdpr_update(runtime, client, record, listed)
                else:
                    gdpr[record.request_id] = submit_gdpr_deletes(runtime, client, record, listed)
        ready = [r for r in cleared if r.request_id in gdpr]  # a failed or hiccuping one waits for its retry
        # The first round's contacts of the whole batch, in bulk calls (transient trouble retries the batch).
        contacts = delete_contacts(runtime, client, [r for r in ready if r.recording_round == 0
                                                     and not keeps_contacts(runtime, r)])
        for record in ready:
            with isolated(runtime, record, "deletion"):
                outcome = contacts.get(record.request_id, ContactsOutcome())
                if outcome.error is not None:
                    raise outcome.error  # one of its contacts could not be deleted: this request alone fails
                try:
                    if erase_one(runtime, client, record, outcome, gdpr[record.request_id]):
                        submitted.append(record.request_id)
                except RunLater as wait:
                    if wait.request_id != record.request_id:
                        raise  # the whole batch waits (the rate budget): the pipeline sends it again
                    # This request alone waits (a recording-job slot): the others go on meanwhile.
                    waiting.append(record.request_id)
                    countdown = max(countdown, wait.defer_s)
    if waiting:
        if len(waiting) == len(request_ids):
            raise RunLater(countdown, "every request of the batch waits for a recording-job slot")
        send_ids(DELETE_TASK, waiting, countdown=countdown)


def keeps_contacts(runtime: Runtime, record: ErasureRecord) -> bool:
    """An anonymise request under ``ERASURE_ANONYMISE_CONTACTS=keep`` leaves its contacts to the GDPR_UPDATE."""
    return record.kind is RequestKind.ANONYMISE and runtime.settings.anonymise_contacts == "keep"


def withhold_held_subject(runtime: Runtime, record: ErasureRecord) -> bool:
    """A legal hold on the subject keeps everything back: the request goes to HELD, True."""
    held = subject_withheld(runtime, record)
    if held:
        transition(runtime, record.request_id, RequestState.HELD, "deletion.withheld_subject_hold",
                   details={"holds": [w.hold for w in held]}, expect=RequestState.DELETING, withheld=held,
                   reason=hold_reason(held))
    return bool(held)


def erase_one(runtime: Runtime, client: GenesysClient, record: ErasureRecord, contacts: ContactsOutcome,
              gdpr: GdprOutcome) -> bool:
    """Submit everything else of one cleared request, whose GDPR_DELETEs are submitted (``gdpr``) and
    contacts deleted (``contacts``); True once it is handed to polling."""
    request_id = record.request_id
    first_round = record.recording_round == 0
    blocked: list[str] = [*contacts.blocked, *gdpr.blocked]
    deleted = contacts.deleted
    gdpr_ids = gdpr.ids
    users = record.users_deleted
    names = gdpr.names_sent if first_round else record.gdpr_names_sent
    if first_round and record.kind is not RequestKind.ANONYMISE:  # anonymise keeps the records, users too
        users, user_block = delete_user(runtime, client, record)
        blocked += user_block
    if record.recording_scope is None:
        wanted = list(dict.fromkeys([*record.conversation_ids, *record.sensitive_conversation_ids]))
        if runtime.settings.recordings == "deferred" and not record.purge_policy:
            scope: list[str] = []  # left to the retention purge (see Settings.recordings)
            runtime.audit.append("deletion.recordings_deferred", request_id=request_id,
                                 subject=runtime.digest(record), details={"conversations": len(wanted)})
        else:
            scope = wanted if record.purge_policy else find_recording_scope(client, wanted)
        record = runtime.store.update(request_id, recording_scope=scope,
                                      recordings_deferred=runtime.settings.recordings == "deferred")
    deletion = delete_recordings(runtime, client, record, runtime.settings.discovery_lookback_days)
    record, job_ids, covered = deletion.record, deletion.job_ids, deletion.conversations
    blocked += deletion.blocked
    moved = transition(runtime, request_id, RequestState.POLLING, "deletion.submitted",
                       details={"gdpr_request_ids": gdpr_ids, "contacts_deleted": len(deleted), "users_deleted": users,
                                "recording_jobs": job_ids, "recording_conversations": len(covered),
                                "withheld": len(record.withheld), "blocked": blocked, "round": record.recording_round,
                                "gdpr_names_sent": names},
                       gdpr_request_ids=gdpr_ids, gdpr_names_sent=names, contacts_deleted=deleted or record.contacts_deleted,
                       users_deleted=users,
                       recording_job_ids=list(dict.fromkeys([*record.recording_job_ids, *job_ids])),
                       recording_conversation_ids=list(dict.fromkeys([*record.recording_conversation_ids, *covered])),
                       blocked=list(dict.fromkeys([*record.blocked, *blocked])),
                       submitted_at=record.submitted_at or utcnow(), expect=RequestState.DELETING)
    return moved is not None  # None: another delivery got there first and hands it on itself


def only_a_name(record: ErasureRecord) -> bool:
    """Nothing but a name identifies the subject (discovery found nothing else, nothing was withheld): a
    name never goes alone with a GDPR_DELETE, so nothing here could be erased, and a verification with
    nothing to look for must not pass as an erasure."""
    excluded = record.excluded is not None and not record.excluded.is_empty()
    return not _gdpr_identity(record) and bool(record.erasable_identity.names) and not excluded


def refuse_name_only(runtime: Runtime, record: ErasureRecord) -> None:
    transition(runtime, record.request_id, RequestState.FAILED, "deletion.name_only", expect=RequestState.DELETING,
               reason="only a name identifies the subject and a name is never sent alone with a GDPR_DELETE (it "
                      "would reach namesakes): nothing was erased; resubmit under a new ticket with an email, phone, "
                      "external contact or user id of the subject")


def nothing_to_replace(record: ErasureRecord) -> bool:
    """An anonymise request with no identifier a ReplacementTerm can name (only a user id or journey
    cookies): a GDPR_UPDATE would change nothing, and a verification must not pass it as anonymised."""
    return record.kind is RequestKind.ANONYMISE and not replacement_terms(b"probe", record)


def refuse_nothing_to_replace(runtime: Runtime, record: ErasureRecord) -> None:
    transition(runtime, record.request_id, RequestState.FAILED, "deletion.nothing_to_anonymise",
               expect=RequestState.DELETING,
               reason="nothing of the subject can be anonymised: no email, phone or external contact was found, and a "
                      "user id or journey cookie has no replacement term on the platform; nothing was changed: "
                      "submit it as an erase, or with an email, phone or external contact of the subject")


def _gdpr_identity(record: ErasureRecord) -> bool:
    subject = gdpr_subject_for(record)
    return bool(subject.email_addresses or subject.phone_numbers or subject.name or subject.user_id
                or subject.external_contact_id or subject.journey_customer)


def delete_user(runtime: Runtime, client: GenesysClient, record: ErasureRecord) -> tuple[int, list[str]]:
    """A former agent's user is deleted besides the GDPR request; an *active* user is never deleted.

    A DELETE is reconciled by making it again: a redelivery that finds the intent without a result
    deletes again, and the platform's 404 then says the first call went through."""
    user_id = record.effective_identity.user_id
    if not user_id:
        return 0, []

    def call() -> Outcome:
        user = client.get_user(user_id)
        if user is None:
            return AlreadyGone()
        if (user.state or "").lower() == "active":
            return Blocked(USER_ACTIVE)
        gone = client.delete_user(user_id)
        return Done(DELETED) if gone else AlreadyGone()

    outcome = runtime.effects.once(record.request_id, USER_DELETE, call)
    if outcome.via is Via.CALL:
        if isinstance(outcome, Blocked) and outcome.code != USER_ACTIVE:  # the platform's 409, not our rule
            runtime.audit.append("deletion.blocked", request_id=record.request_id, subject=runtime.digest(record),
                                 details={"effect": USER_DELETE, "status": 409, "code": outcome.code})
        runtime.audit.append("deletion.user_deleted", request_id=record.request_id, subject=runtime.digest(record),
                             details={"result": outcome.recorded})
    if isinstance(outcome, Blocked):
        return 0, [f"user: {outcome.code}"]
    return 1, []


def gdpr_requests(runtime: Runtime, client: GenesysClient, records: list[ErasureRecord]) -> GdprRequests:
    """The platform's GDPR requests, synced once for every request of the batch that has no GDPR_DELETE
    recorded yet (about one list page; none when every one has)."""
    requests = GdprRequests(runtime, client)
    requests.prepare([r for r in records if r.recording_round == 0 and _gdpr_identity(r)
                      and any(_recorded(runtime, r.request_id, effect) is None for effect in _gdpr_effects(r))])
    return requests


def _gdpr_effects(record: ErasureRecord) -> list[str]:
    """The ledger effects of this request's GDPR requests: one GDPR_UPDATE, or its GDPR_DELETEs."""
    if record.kind is RequestKind.ANONYMISE:
        return [GDPR_UPDATE]
    return [gdpr_effect(record.request_id, subject, n == 0)[0] for n, subject in enumerate(gdpr_subjects_for(record))]


def _recorded(runtime: Runtime, request_id: str, effect: str) -> Outcome | None:
    stored = runtime.effects.get(request_id, effect)
    return stored.outcome if stored is not None else None


@dataclass
class GdprOutcome:
    """A request's GDPR_DELETEs: the platform ids submitted or found, what was refused (409), and
    whether the first carried a name."""

    ids: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    names_sent: bool = False


def submit_gdpr_deletes(runtime: Runtime, client: GenesysClient, record: ErasureRecord,
                        listed: GdprRequests) -> GdprOutcome:
    """Submit every GDPR_DELETE of this request (``gdpr_subjects_for``), each exactly once."""
    outcome = GdprOutcome()
    if not _gdpr_identity(record):
        return outcome
    for n, subject in enumerate(gdpr_subjects_for(record)):
        effect, name = gdpr_effect(record.request_id, subject, first=n == 0)
        result = submit_gdpr_delete(runtime, client, record, listed, subject, effect, name)
        if isinstance(result, Blocked):
            outcome.blocked.append(f"GDPR_DELETE: 409 {result.code}")
        else:
            outcome.ids.append(result.recorded)
            outcome.names_sent = outcome.names_sent or subject.name is not None
    return outcome


def submit_gdpr_update(runtime: Runtime, client: GenesysClient, record: ErasureRecord,
                       listed: GdprRequests) -> GdprOutcome:
    """An anonymise request's one GDPR_UPDATE: the first GDPR subject (every email, phone, the first contact)
    with a replacement term for every identifier (``shared.anonymise``), exactly once through the ledger.

    Found again after a crash by its name ``erasure-<request id>`` only: the index's nameless fallback holds
    GDPR_DELETEs, and adopting one of those would certify an anonymisation that was an erasure."""
    outcome = GdprOutcome()
    terms = replacement_terms(runtime.settings.require_hmac_key(), record)
    if not _gdpr_identity(record) or not terms:
        return outcome
    request_id, subject, name = record.request_id, gdpr_subject_for(record), gdpr_request_name(record.request_id)

    def call() -> Outcome:
        created = client.create_gdpr_request("GDPR_UPDATE", subject, name=name, replacement_terms=terms)
        listed.remember_creator(created)
        return Done(created.id)

    def find() -> str | None:
        return listed.find(record, subject, name, request_type="GDPR_UPDATE")

    result = runtime.effects.once(request_id, GDPR_UPDATE, call, reconcile=lambda _: find(), unrecorded=find)
    if isinstance(result, Done) and result.via in (Via.CALL, Via.RECONCILE):
        event = "deletion.gdpr_update_submitted" if result.via is Via.CALL else "deletion.gdpr_request_reconciled"
        runtime.audit.append(event, request_id=request_id, subject=runtime.digest(record),
                             details={"gdpr_request_id": result.platform_id, "replacement_terms": len(terms)})
    if isinstance(result, Blocked):
        outcome.blocked.append(f"GDPR_UPDATE: 409 {result.code}")
    else:
        outcome.ids.append(result.recorded)
        outcome.names_sent = subject.name is not None or any(t["type"] == "NAME" for t in terms)
    return outcome


def submit_gdpr_delete(runtime: Runtime, client: GenesysClient, record: ErasureRecord, listed: GdprRequests,
                       subject: GdprSubject, effect: str = GDPR_DELETE, name: str | None = None) -> Outcome:
    """Submit one GDPR_DELETE of this request (ledger ``effect``, platform-side ``name``), or find the one
    already submitted: by its name in the platform's list (``listed``), or by its exact subject when the
    platform dropped the name; when an earlier delivery died between the call and its record, and also when
    there is no record at all (Redis lost the intent with its last second of writes)."""
    request_id = record.request_id
    name = name or gdpr_request_name(request_id)

    def call() -> Outcome:
        created = client.create_gdpr_request("GDPR_DELETE", subject, name=name)
        listed.remember_creator(created)
        return Done(created.id)

    def find() -> str | None:
        return listed.find(record, subject, name)

    outcome = runtime.effects.once(request_id, effect, call, reconcile=lambda _: find(), unrecorded=find)
    if isinstance(outcome, Done) and outcome.via is Via.RECONCILE:
        log.warning("request %s: found GDPR request %s submitted before a crash", request_id, outcome.platform_id)
        runtime.audit.append("deletion.gdpr_request_reconciled", request_id=request_id,
                             subject=runtime.digest(record), details={"gdpr_request_id": outcome.platform_id})
    elif isinstance(outcome, Done) and outcome.via is Via.CALL:
        runtime.audit.append("deletion.gdpr_request_submitted", request_id=request_id,
                             subject=runtime.digest(record), details={"gdpr_request_id": outcome.platform_id})
    return outcome
