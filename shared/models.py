"""The records this system keeps about an erasure request, and the states it moves through.

A request is stored as one JSON document in Redis (see ``store``); tasks pass only its id.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

#: Art. 12(3) GDPR: one month; we use 30 days from the verified date.
DEADLINE = timedelta(days=30)


def utcnow() -> datetime:
    return datetime.now(UTC)


class RequestKind(StrEnum):
    """What a request asks of the platform, chosen at intake. ``erase``: GDPR_DELETE (the default);
    ``anonymise``: GDPR_UPDATE replacing each identifier with a placeholder, the records kept; ``access``:
    GDPR_EXPORT, its download link handed back (Art. 15)."""

    ERASE = "erase"
    ANONYMISE = "anonymise"
    ACCESS = "access"


class Lane(StrEnum):
    """Which queue lane a request travels in. ``interactive``: one subject submitted on its own (API, CLI,
    Celery door), served first; ``bulk``: a file, a retention purge or a caller's flag, given at most a
    share of the rate budget while interactive work waits (issue 21)."""

    INTERACTIVE = "interactive"
    BULK = "bulk"


#: The kinds this release carries out; the others are refused at intake with a clear error rather than
#: accepted and silently done as something else.
AVAILABLE_KINDS = frozenset({RequestKind.ERASE, RequestKind.ANONYMISE, RequestKind.ACCESS})


class RequestState(StrEnum):
    RECEIVED = "received"
    AWAITING_APPROVAL = "awaiting_approval"
    DISCOVERING = "discovering"
    REDACTING = "redacting"
    # Review before delete: the platform's own GDPR_EXPORT of the subject is read for what it holds
    # (services.deletion.review submits it, services.polling.review follows and summarises it).
    REVIEWING = "reviewing"
    DELETING = "deleting"
    # A legal hold on the subject keeps the whole erasure back (not final: the identifiers are kept
    # under the hold's basis so that ``erasure release-held`` can erase once the hold ends).
    HELD = "held"
    POLLING = "polling"
    VERIFYING = "verifying"
    COMPLETED = "completed"
    COMPLETED_WITH_WITHHELD = "completed_with_withheld"
    PARTIAL = "partial"
    FAILED = "failed"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        """No task works on the request any more (its certificate is due); see ``ALLOWED`` for the one way out."""
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        RequestState.COMPLETED,
        RequestState.COMPLETED_WITH_WITHHELD,
        RequestState.PARTIAL,
        RequestState.FAILED,
        RequestState.REJECTED,
    }
)

_S = RequestState
ALLOWED: Mapping[RequestState, frozenset[RequestState]] = MappingProxyType({
    _S.RECEIVED: frozenset({_S.DISCOVERING, _S.FAILED}),
    _S.DISCOVERING: frozenset({_S.REDACTING, _S.FAILED}),
    _S.REDACTING: frozenset({_S.DISCOVERING, _S.REVIEWING, _S.AWAITING_APPROVAL, _S.DELETING, _S.FAILED}),
    _S.REVIEWING: frozenset({_S.AWAITING_APPROVAL, _S.DELETING, _S.FAILED}),
    _S.AWAITING_APPROVAL: frozenset({_S.DELETING, _S.REJECTED, _S.FAILED}),
    _S.DELETING: frozenset({_S.AWAITING_APPROVAL, _S.HELD, _S.POLLING, _S.FAILED}),
    _S.HELD: frozenset({_S.DELETING, _S.FAILED}),
    _S.POLLING: frozenset({_S.VERIFYING, _S.PARTIAL, _S.FAILED}),
    _S.VERIFYING: frozenset({_S.COMPLETED, _S.COMPLETED_WITH_WITHHELD, _S.PARTIAL, _S.FAILED}),
    _S.COMPLETED: frozenset(),
    _S.COMPLETED_WITH_WITHHELD: frozenset({_S.DELETING}),
    _S.PARTIAL: frozenset(),
    _S.FAILED: frozenset(),
    _S.REJECTED: frozenset(),
})
"""Every state change the product makes, in one place: ``RequestStore`` refuses any other. ::

    main path:  RECEIVED -> DISCOVERING -> REDACTING -> DELETING -> POLLING -> VERIFYING -> COMPLETED
    back:                   DISCOVERING <- REDACTING                       (transcripts named new identifiers)
    gate:                                  REDACTING -> AWAITING_APPROVAL <-> DELETING      (approve; none, or a stale scope)
    reject:                                AWAITING_APPROVAL -> REJECTED      (a person refuses it in the console)
    review:                                REDACTING -> REVIEWING -> AWAITING_APPROVAL | DELETING (review before delete)
    hold:                                               HELD <-> DELETING     (hold on the subject; release-held)
    reopen:     COMPLETED_WITH_WITHHELD -> DELETING          (release-held: held conversations are free now)
    other ends: POLLING -> PARTIAL (GDPR ERROR/timeout); VERIFYING -> COMPLETED_WITH_WITHHELD | PARTIAL
    failure:    every state that is not final -> FAILED

Final states (``RequestState.is_final``: COMPLETED, COMPLETED_WITH_WITHHELD, PARTIAL, FAILED, REJECTED)
have no way out but one: ``erasure release-held`` reopens a COMPLETED_WITH_WITHHELD request for the
conversations whose hold ended. HELD is not final: its request waits for ``release-held``.

A request enters the table where it is created (``RequestStore.create`` takes the state the record
carries): RECEIVED by the intake, DELETING by a retention purge, already approved by the standing policy.

No state moves to itself. Redeliveries are filtered by state before they write (``pipeline.load``, the
``expect=`` guards, ``claim_state``), so no caller re-sets the state a request is already in; such a
write would hide a bug, and the store refuses it like any other move not in the table.
"""


def may_move(old: RequestState, new: RequestState) -> bool:
    """Whether ``ALLOWED`` has ``old -> new``; a state never moves to itself."""
    return new in ALLOWED[old]


class Subject(BaseModel):
    """Identifiers of one data subject, already normalised (emails lower-case, phones E.164)."""

    model_config = ConfigDict(hide_input_in_errors=True)  # a validation error must not quote identifiers
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    external_contact_ids: list[str] = Field(default_factory=list)
    user_id: str | None = None
    # Journey cookie ids of a web-messaging guest (the contacts' identifiers of type Cookie): the platform's
    # GDPR search reaches guest data by them (``GDPRSubject.journeyCustomer``), never found from an email.
    cookie_ids: list[str] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.emails or self.phones or self.names or self.external_contact_ids or self.user_id
                    or self.cookie_ids)

    def values(self) -> list[str]:
        """Every identifying value, for digests, verification and log scrubbing."""
        out = [*self.emails, *self.phones, *self.names, *self.external_contact_ids, *self.cookie_ids]
        if self.user_id:
            out.append(self.user_id)
        return out

    def merge(self, other: Subject) -> Subject:
        def union(a: list[str], b: list[str]) -> list[str]:
            return list(dict.fromkeys([*a, *b]))

        return Subject(
            emails=union(self.emails, other.emails),
            phones=union(self.phones, other.phones),
            names=union(self.names, other.names),
            external_contact_ids=union(self.external_contact_ids, other.external_contact_ids),
            user_id=self.user_id or other.user_id,
            cookie_ids=union(self.cookie_ids, other.cookie_ids),
        )


class ApprovalScope(BaseModel):
    """What an approval was given against (``shared.approval_scope``): a keyed digest of what deletion will
    act on, and counts by kind for a person to read. Never an identifier in clear."""

    digest: str
    identifiers: dict[str, int] = Field(default_factory=dict)  # by kind: emails, phones, names, ...
    conversations: int = 0


class Approval(BaseModel):
    """Who let deletion go ahead. Over HTTP ``by`` is the approving API key's name and ``key_id`` its id
    (never a string from a body); from the CLI (break-glass) ``by`` is the operator and ``key_id`` None."""

    by: str
    at: datetime = Field(default_factory=utcnow)
    key_id: str | None = None
    # "api" (a second key approved), "preapproved" (a trusted upstream key, ERASURE_PREAPPROVE_KEYS),
    # "cli" (the operator's break-glass command), "intake" (an operator-side door: CLI, bulk file, Celery).
    via: str | None = None
    # The scope a person approved ("api", "cli"): the gate honours it only while the request's scope is the
    # same. None: a standing approval of the subject *as discovered* ("preapproved", "intake", a purge).
    scope: ApprovalScope | None = None
    # Given with the request's review before delete in front of the approver (its summary complete): a
    # flagged review supersedes any approval given without it (``shared.approval_scope``).
    reviewed: bool = False


class DateWindow(BaseModel):
    start: datetime
    end: datetime


class Verification(BaseModel):
    ok: bool
    checked_conversations: int = 0
    checked_identifiers: int = 0
    remnants: list[str] = Field(default_factory=list)  # "kind:id" only, never values
    at: datetime = Field(default_factory=utcnow)


class WithheldRecord(BaseModel):
    """Something deliberately not erased, and why: ids of platform objects and holds, never values."""

    kind: str  # "conversation" (its recordings kept) | "subject" (the whole erasure held back)
    id: str | None = None  # the conversation id; None for a subject-level hold
    hold: str  # the hold register's id, or "platform:deletionprotection"
    reason: str
    basis: str


class ExportResult(BaseModel):
    """What an access request's GDPR_EXPORT produced, as far as this system keeps it: the platform's
    request id, when we saw it complete, how many archive files and when their link expires. Not the
    link (a bearer secret to the subject's data) and nothing of the data."""

    gdpr_request_id: str
    completed_at: datetime
    files: int
    link_expires_at: datetime
    link_expiry_source: str  # "link" (read from the link itself) or "assumed" (ERASURE_EXPORT_LINK_TTL_S)


class ExportSummary(BaseModel):
    """What a GDPR_EXPORT archive holds, read for its shape and never kept: record kinds with counts, the
    platform ids of the conversations and external contacts in it, and the dates it spans. No value of the
    subject's data (the archive's content is discarded as soon as it is read: ``shared.export_review``)."""

    files: int = 0  # JSON documents read
    skipped_files: int = 0  # members that are not JSON: not read, so the review cannot say it saw everything
    records: dict[str, int] = Field(default_factory=dict)  # by kind: conversations, messages, external_contacts, other
    conversations: int = 0
    external_contacts: int = 0
    # Values under a conversation or contact id field that are not platform ids (UUIDs): neither taken into
    # scope nor shown (a crafted archive's '..' or escape codes); counted so the review says it left some out.
    skipped_ids: int = 0
    first_date: datetime | None = None
    last_date: datetime | None = None


class ExportReview(BaseModel):
    """Review before delete: the platform's export of the subject next to what discovery found.

    ``missed_conversation_ids`` are conversations the export holds that discovery did not find; they are
    added to the request's scope (so deletion and verification reach them) and flagged to the approver.
    Missed external contacts join the identity the same way; they are counted here, not listed (they are
    scrubbed with the identity once the request is final)."""

    gdpr_request_ids: list[str] = Field(default_factory=list)
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    # "pending" (submitted, the platform is working), "summarised", or why there is no summary:
    # "platform_error", "timeout", "link_expired", "unreadable", "name_only" (nothing to export by).
    status: str = "pending"
    summary: ExportSummary | None = None
    discovered_conversations: int = 0  # what discovery had found when the export was compared
    missed_conversation_ids: list[str] = Field(default_factory=list)
    missed_external_contacts: int = 0

    @property
    def flagged(self) -> bool:
        """Whether the approver must look: the export found what discovery missed, or could not be read (in
        whole or in part: no JSON document in it, members that are not JSON, ids that are not platform ids)."""
        if self.missed_conversation_ids or self.missed_external_contacts or self.status not in ("pending", "summarised"):
            return True
        summary = self.summary
        return summary is not None and (summary.files == 0 or summary.skipped_files > 0 or summary.skipped_ids > 0)


class ErasureRecord(BaseModel):
    """Everything known about one request. Identifiers in ``subject``/``identity`` are scrubbed
    to digests once the request is final (issue: scrub)."""

    model_config = ConfigDict(hide_input_in_errors=True)
    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ticket: str
    subject: Subject
    verified_at: datetime
    kind: RequestKind = RequestKind.ERASE
    lane: Lane = Lane.INTERACTIVE
    window: DateWindow | None = None
    approval: Approval | None = None
    # Approvals the gate stopped honouring because the scope widened after them (shared.approval_gate).
    superseded_approvals: list[Approval] = Field(default_factory=list)
    state: RequestState = RequestState.RECEIVED
    received_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    identity: Subject | None = None
    identity_sources: dict[str, int] = Field(default_factory=dict)
    conversation_ids: list[str] = Field(default_factory=list)
    message_conversation_ids: list[str] = Field(default_factory=list)
    message_ids: dict[str, list[str]] = Field(default_factory=dict)  # conversation id -> message ids
    active_conversation_ids: list[str] = Field(default_factory=list)
    # Identifiers kept out of the platform-wide GDPR request, e.g. a number that a later owner
    # uses after the request's date window; counted in the certificate, never listed in clear.
    excluded: Subject | None = None
    discovery_attempts: int = 0
    # When discovery last found a conversation in progress and scheduled the next look (see
    # services.discovery.tasks: a second delivery soon after, from a resume or a rerun, adds no second chain).
    last_revisit_at: datetime | None = None
    scrubbed: bool = False  # identifiers replaced by digests once final
    recordings_deferred: bool = False  # recordings left to the retention purge (bulk runs)
    subject_digest: str | None = None  # fixed at intake, so it survives scrubbing
    # The API key (id) that submitted it over HTTP: that key may not approve it (four eyes). None: an operator door.
    submitted_by: str | None = None
    transcripts_scanned: int = 0
    transcript_mentions: int = 0
    # Conversations whose text holds other sensitive data (cards, IBANs, SSNs): in deletion scope.
    sensitive_conversation_ids: list[str] = Field(default_factory=list)
    redaction_rounds: int = 0

    gdpr_request_ids: list[str] = Field(default_factory=list)
    contacts_deleted: list[str] = Field(default_factory=list)
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    poll_attempts: int = 0
    verification: Verification | None = None
    reason: str | None = None  # why PARTIAL/FAILED, and the operator's next step; no personal data

    # Deletion of recordings (recording DELETE jobs), legal holds, former agents (services.deletion).
    withheld: list[WithheldRecord] = Field(default_factory=list)
    # Conversations whose recordings were looked for (None: not yet), and those sent to DELETE jobs.
    recording_scope: list[str] | None = None
    recording_conversation_ids: list[str] = Field(default_factory=list)
    recording_job_ids: list[str] = Field(default_factory=list)
    recording_round: int = 0  # 0 = the erasure itself; n = the n-th release of held conversations
    failed_recordings: list[str] = Field(default_factory=list)  # "conversationId/recordingId"
    users_deleted: int = 0
    # What the platform refused with 409, as "<step>: <platform error code>"; makes the request PARTIAL.
    blocked: list[str] = Field(default_factory=list)
    # Set on a retention purge: the standing policy it runs under (instead of a per-request approval).
    purge_policy: str | None = None
    # The operator's opt-in at intake: names go with the GDPR_DELETE (never alone); else they only search.
    erase_by_name: bool = False
    gdpr_names_sent: bool = False  # whether the GDPR_DELETE submitted carried a name (for the certificate)
    # Where the final event also goes (checked against ERASURE_CALLBACK_HOSTS at intake and at every send).
    # Not personal data, but its query may hold the receiver's token: shown by host only (repr=False).
    callback_url: str | None = Field(default=None, repr=False)
    # An access request's completed GDPR_EXPORT: what was exported and when, never the link itself (that
    # lives in Redis only until it expires: ``shared.export_links``).
    export: ExportResult | None = None
    # Review before delete, asked for at intake (or for every request: ERASURE_REVIEW_EXPORT), and its result.
    review_export: bool = False
    review: ExportReview | None = None

    @property
    def deadline(self) -> datetime:
        return self.verified_at + DEADLINE

    @property
    def effective_identity(self) -> Subject:
        return self.identity or self.subject

    @property
    def erasable_identity(self) -> Subject:
        """The identity minus what must stay out of a platform-wide request (reassigned numbers)."""
        identity = self.effective_identity
        excluded = self.excluded or Subject()
        return identity.model_copy(update={
            "emails": [e for e in identity.emails if e not in excluded.emails],
            "phones": [p for p in identity.phones if p not in excluded.phones],
        })


class RecordChanges(TypedDict, total=False):
    """The fields a write may change in a stored request (``RequestStore.update``, ``update_if``,
    ``set_state``, ``pipeline.transition``), typed as on ``ErasureRecord`` so strict mypy checks each call.

    Not here: ``state``, which only moves through the table (``set_state``, ``update_if``, ``claim_state``);
    what the intake fixed (``request_id``, ``ticket``, ``verified_at``, ``window``, ``received_at``,
    ``subject_digest``, ``purge_policy``, ``erase_by_name``, ``submitted_by``, ``callback_url``, ``kind``, ``review_export``,
    ``lane``);
    ``updated_at``, which the store sets on every write; and ``scrubbed``, which only ``shared.scrub`` sets, with the digests.
    """

    subject: Subject
    approval: Approval | None
    superseded_approvals: list[Approval]
    identity: Subject | None
    identity_sources: dict[str, int]
    conversation_ids: list[str]
    message_conversation_ids: list[str]
    message_ids: dict[str, list[str]]
    active_conversation_ids: list[str]
    excluded: Subject | None
    discovery_attempts: int
    last_revisit_at: datetime | None
    recordings_deferred: bool
    transcripts_scanned: int
    transcript_mentions: int
    sensitive_conversation_ids: list[str]
    redaction_rounds: int
    gdpr_request_ids: list[str]
    contacts_deleted: list[str]
    submitted_at: datetime | None
    completed_at: datetime | None
    poll_attempts: int
    verification: Verification | None
    reason: str | None
    withheld: list[WithheldRecord]
    recording_scope: list[str] | None
    recording_conversation_ids: list[str]
    recording_job_ids: list[str]
    recording_round: int
    failed_recordings: list[str]
    users_deleted: int
    gdpr_names_sent: bool
    blocked: list[str]
    export: ExportResult | None
    review: ExportReview | None
