"""The HTTP intake's request and answer shapes: the shared intake model (``validation.ErasureRequestIn``,
which the CLI, file and Celery doors use too) with the limits a door facing a network needs on top.

Caps bound the work one request can cause (identifiers per request, string lengths); dates lie within
sane bounds. Tickets (plain ASCII) and platform ids (UUIDs) follow the rules every door shares
(``validation.Ticket``, ``validation.PlatformId``).
Every error names the field, never the value (``describe_error``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Ticket and platform id rules are the intake's, one definition for every door (``validation``).
from services.intake.validation import ErasureRequestIn, PlatformId, Ticket
from shared.callbacks import MAX_CALLBACK_URL

# TICKET_PATTERN is re-exported: the API's and the console's ticket paths use it.
from shared.identifiers import TICKET_PATTERN as TICKET_PATTERN
from shared.models import ApprovalScope, ExportReview, ExportSummary

MAX_EMAILS, MAX_PHONES, MAX_NAMES, MAX_CONTACT_IDS = 20, 20, 10, 100
#: No contact centre holds conversations from before this; a date before it is a typo or a probe.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead a window may end (a verified date may not be in the future at all: ``parse_request``).
LATEST_AHEAD = timedelta(days=366)

Email = Annotated[str, StringConstraints(max_length=254)]  # RFC 5321's longest path
Phone = Annotated[str, StringConstraints(max_length=40)]
Name = Annotated[str, StringConstraints(max_length=200)]


class SubmitRequest(ErasureRequestIn):
    """``POST /requests``: one erasure request. Unknown fields are refused; identifiers are normalised
    (emails lower-cased, phones E.164) after these limits pass.

    ``approved_by`` is refused (422) unless the calling key is named in ERASURE_PREAPPROVE_KEYS; then the
    approval is recorded as that key's, not as the string sent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    ticket: Ticket = Field(description="your reference, the idempotency key: letters, digits and . _ : - (1-64)")
    emails: list[Email] = Field(default_factory=list, max_length=MAX_EMAILS)
    phones: list[Phone] = Field(default_factory=list, max_length=MAX_PHONES,
                                description="E.164 (+ and country code), or national with phone_region")
    names: list[Name] = Field(default_factory=list, max_length=MAX_NAMES)
    external_contact_ids: list[PlatformId] = Field(default_factory=list, max_length=MAX_CONTACT_IDS,
                                                   description="Genesys external contact ids (UUIDs)")
    user_id: PlatformId | None = Field(default=None, description="a former agent's Genesys user id (UUID)")
    approved_by: str | None = Field(default=None, max_length=200,
                                    description="only from a key trusted to pre-approve (ERASURE_PREAPPROVE_KEYS)")
    callback_url: str | None = Field(default=None, max_length=MAX_CALLBACK_URL, description=(
        "where the signed final event of this request is also POSTed: https to a host in ERASURE_CALLBACK_HOSTS "
        "(http only to ERASURE_CALLBACK_HTTP_HOSTS); refused when the deployment allows none"))

    @model_validator(mode="after")
    def _dates_in_bounds(self) -> SubmitRequest:
        latest = datetime.now(UTC) + LATEST_AHEAD
        for field in ("verified_at", "window_start", "window_end"):
            value: datetime | None = getattr(self, field)
            if value is not None:
                aware = value if value.tzinfo else value.replace(tzinfo=UTC)
                if not EARLIEST <= aware <= latest:
                    raise ValueError(f"{field}: must lie between {EARLIEST.date()} and a year from now")
        return self


class Accepted(BaseModel):
    request_id: str
    ticket: str
    kind: str = "erase"
    state: str


class ExportView(BaseModel):
    """An access request's GDPR_EXPORT as handed over: the platform's download links until they expire."""

    gdpr_request_id: str
    completed_at: datetime
    files: int
    expires_at: datetime
    expired: bool = Field(description="the links no longer work and are no longer held here")
    results_urls: list[str] = Field(default_factory=list, repr=False,
                                    description="the platform's download links (empty once expired)")


class RequestView(BaseModel):
    """A request as the API shows it: ids, state, dates and the approval; never the subject."""

    request_id: str
    ticket: str
    kind: str = "erase"
    state: str
    received_at: datetime
    deadline: datetime
    overdue: bool
    reason: str | None = None
    approved: bool
    approved_by: str | None = None
    approved_by_key: str | None = None
    approved_at: datetime | None = None
    callback: str | None = Field(default=None, description="scheme and host of the request's callback URL, if any")
    # What an approval covers (shared.approval_scope): approve with {"scope": scope.digest} to bind it.
    scope: ApprovalScope | None = Field(default=None, description="what deletion would act on now (counts and a "
                                        "keyed digest; null once the request is final and its identifiers scrubbed)")
    approved_scope: ApprovalScope | None = Field(default=None, description="the scope the approval was given "
                                                 "against; null for a pre-approval (the subject as discovered)")
    superseded_approvals: int = Field(default=0, description="approvals no longer honoured: the scope widened after them")
    export: ExportView | None = Field(default=None, description="an access request's completed export: its "
                                      "download links while they work (a secret: anyone holding one can read the data)")
    review: ReviewView | None = Field(default=None, description="review before delete: the platform's export of "
                                      "the subject beside what discovery found; null when not asked for")


class ReviewView(BaseModel):
    """Review before delete: the platform's export of the subject beside what discovery found (counts and
    platform ids, never a value). ``flagged``: the export holds what discovery missed, or could not be read."""

    status: str = Field(description="pending, summarised, or why there is no summary: platform_error, timeout, "
                                    "link_expired, unreadable, name_only")
    flagged: bool
    gdpr_request_ids: list[str] = Field(default_factory=list)
    completed_at: datetime | None = None
    export: ExportSummary | None = Field(default=None, description="what the export holds: records by kind, "
                                         "conversations, external contacts and the dates spanned")
    discovered_conversations: int = Field(default=0, description="what discovery had found")
    missed_conversation_ids: list[str] = Field(default_factory=list, description="conversations the export holds that "
                                               "discovery missed: added to what deletion acts on")
    missed_external_contacts: int = Field(default=0, description="contacts of the subject the export holds that "
                                          "discovery missed: added to the identity")


class RequestSummary(BaseModel):
    request_id: str
    ticket: str
    state: str
    deadline: datetime
    overdue: bool


class RequestPage(BaseModel):
    items: list[RequestSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


class ErrorBody(BaseModel):
    errors: list[str] = Field(description="'field: problem' lines; a submitted value is never repeated")


def describe_error(error: Mapping[str, Any]) -> str:
    """``field: problem`` from a pydantic or FastAPI error, without the offending input or an unknown key's name."""
    loc = [str(p) for p in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    where = ".".join(loc)
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        # The key itself may be a value (a JSON key holding an address): never repeat it.
        close = difflib.get_close_matches(loc[-1] if loc else "", list(SubmitRequest.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the fields are {', '.join(SubmitRequest.model_fields)}"
        parent = ".".join(loc[:-1])
        return f"{parent or 'request'}: an unknown field (its name is not repeated){hint}"
    if ":" in message and (not where or error.get("type") == "value_error"):
        return message  # a model-level check that names its own field ("window: ...", "subject: ...")
    return f"{where or 'request'}: {message}"


def review_view(review: ExportReview | None) -> ReviewView | None:
    if review is None:
        return None
    return ReviewView(status=review.status, flagged=review.flagged, gdpr_request_ids=review.gdpr_request_ids,
                      completed_at=review.completed_at, export=review.summary,
                      discovered_conversations=review.discovered_conversations,
                      missed_conversation_ids=review.missed_conversation_ids,
                      missed_external_contacts=review.missed_external_contacts)
