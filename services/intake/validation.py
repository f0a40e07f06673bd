"""One validation for every door (CLI, HTTP, Celery): a request is either whole and normalised,
or refused with errors that name the field and never repeat the value."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.api_keys import NAME_RULE, is_name
from shared.callbacks import MAX_CALLBACK_URL, CallbackPolicy, CallbackRefused
from shared.errors import ErasureError
from shared.identifiers import TICKET_PATTERN, UUID_PATTERN, InvalidIdentifier, normalize_email, normalize_phone
from shared.models import AVAILABLE_KINDS, Approval, DateWindow, ErasureRecord, Lane, RequestKind, Subject, utcnow

#: A ticket is the idempotency key and is printed to operators and put in URL paths: plain ASCII, so a
#: zero-width or control character cannot make a second ticket that looks like the first, nor ``/``, ``..``
#: or markup reach a path or a terminal. One rule for every door (HTTP, CLI, file, Celery).
Ticket = Annotated[str, StringConstraints(pattern=TICKET_PATTERN)]
#: A platform id given at intake (user, external contact): a UUID, as it ends up in the platform's URL paths.
PlatformId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


def _approver(value: str) -> str:
    if not is_name(value):
        raise ValueError(f"must be a name as an API key's: {NAME_RULE}")
    return value


#: Who approved, as the audit log and the signed certificate record it: a key name's shape
#: (``shared.api_keys.NAME_PATTERN``), so no newline or escape code reaches either.
ApproverName = Annotated[str, AfterValidator(_approver)]


class IntakeError(ErasureError, ValueError):
    """The request was refused; ``errors`` lists ``field: problem`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class ErasureRequestIn(BaseModel):
    """The wire shape of an erasure request (JSON body, JSONL line, CSV row)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    ticket: Ticket
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    external_contact_ids: list[PlatformId] = Field(default_factory=list)
    user_id: PlatformId | None = None
    phone_region: str | None = Field(default=None, min_length=2, max_length=2)
    verified_at: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    approved_by: ApproverName | None = None
    # Names go to the platform's GDPR_DELETE only when the operator says so for this request: a name is a
    # search term there and a common one reaches namesakes. Discovery searches by name either way.
    erase_by_name: bool = False
    # Where to POST the signed final event of this request, besides the global webhooks: only to a host
    # on the deployment's allow-list (``shared.callbacks``). Not personal data, but its query may hold a token.
    callback_url: str | None = Field(default=None, max_length=MAX_CALLBACK_URL, repr=False)
    # erase (GDPR_DELETE, the default), anonymise (GDPR_UPDATE) or access (GDPR_EXPORT): shared.models.RequestKind.
    kind: RequestKind = RequestKind.ERASE
    # Review before delete for this request (every request with ERASURE_REVIEW_EXPORT): the platform's own
    # export of the subject is read for what it holds and shown at the approval step (shared.export_review).
    review_export: bool = False
    # The queue lane (issue 21, ``shared.lanes``): ``interactive`` (the default) is served first; ``bulk`` yields
    # to single requests and takes at most ERASURE_BULK_RATE_SHARE of the rate budget while they wait.
    lane: Lane = Lane.INTERACTIVE

    @field_validator("emails", "phones", "names", "external_contact_ids", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):  # CSV cells: "a@x.org;b@y.org"
            return [v for v in (p.strip() for p in value.replace(",", ";").split(";")) if v]
        return value

    @model_validator(mode="after")
    def _subject_not_empty(self) -> ErasureRequestIn:
        if not (self.emails or self.phones or self.names or self.external_contact_ids or self.user_id):
            raise ValueError("subject: give at least one identifier (emails, phones, names, "
                             "external_contact_ids or user_id)")
        if self.erase_by_name and not (self.emails or self.phones or self.external_contact_ids or self.user_id):
            raise ValueError("erase_by_name: a name is never the only identifier of an erasure; give an email, "
                             "phone, external_contact_ids or user_id too, or leave erase_by_name out")
        if bool(self.window_start) != bool(self.window_end):
            raise ValueError("window: give both window_start and window_end, or neither")
        # Compared as given at intake: a naive end is UTC (as in ``parse_request``), never a TypeError.
        if self.window_start and self.window_end and _aware(self.window_start) >= _aware(self.window_end):
            raise ValueError("window: window_start must be before window_end")
        return self


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


#: The shortest piece of an identifier (an email's local part, a name) looked for in a ticket: shorter ones
#: ("al", "li") would match ordinary ticket text.
_MIN_PIECE = 5


def _folded(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def spells_the_subject(text: str, emails: list[str], phones: list[str], names: list[str]) -> bool:
    """Whether ``text`` (a ticket, a callback URL) spells one of the request's own identifiers
    (``DSAR-jane.doe``, ``07700900123``, ``?contact=jane.doe%40example.org``), encoding, separators and case
    aside. Both outlive the erasure (a key, the certificate, the final event; the callback URL is kept to
    deliver it), so one that names the subject would keep them in clear after everything else is scrubbed."""
    ticket_text = _folded(unquote(unquote(text)))
    pieces = [_folded(name) for name in names]
    for email in emails:
        pieces += [_folded(email), _folded(email.partition("@")[0])]
    for phone in phones:  # E.164 by now: the national number is what a ticket would carry
        try:
            pieces.append(str(phonenumbers.parse(phone, None).national_number))
        except phonenumbers.NumberParseException:
            pieces.append(_folded(phone))
    return any(len(piece) >= _MIN_PIECE and piece in ticket_text for piece in pieces)


def parse_request(payload: Mapping[str, Any], default_phone_region: str | None = None,
                  callback_policy: CallbackPolicy | None = None) -> ErasureRecord:
    """Validate and normalise; raise ``IntakeError`` naming every bad field.

    ``callback_policy`` is the deployment's allow-list of callback hosts; without one a ``callback_url``
    is refused."""
    try:
        data = ErasureRequestIn.model_validate(dict(payload))
    except ValidationError as exc:
        raise IntakeError([_describe(err) for err in exc.errors()]) from None

    errors: list[str] = []
    emails: list[str] = []
    for i, raw in enumerate(data.emails):
        try:
            emails.append(normalize_email(raw))
        except InvalidIdentifier as exc:
            errors.append(f"emails[{i}]: {exc}")
    phones: list[str] = []
    region = data.phone_region or default_phone_region
    for i, raw in enumerate(data.phones):
        try:
            phones.append(normalize_phone(raw, region.upper() if region else None))
        except InvalidIdentifier as exc:
            errors.append(f"phones[{i}]: {exc}")
    names = [n for n in data.names if n]
    for i, name in enumerate(data.names):
        if not name:
            errors.append(f"names[{i}]: must not be empty")
        elif any(unicodedata.category(c) == "Cc" for c in name):
            errors.append(f"names[{i}]: must not contain control characters")
        elif not any(unicodedata.category(c)[0] in "LMN" for c in name):
            errors.append(f"names[{i}]: must contain a letter or digit")
    now = utcnow()
    verified_at = _aware(data.verified_at) if data.verified_at else now
    if verified_at > now:
        errors.append("verified_at: must not be in the future")
    if data.callback_url is not None:
        try:
            (callback_policy or CallbackPolicy()).check(data.callback_url)
        except CallbackRefused as exc:
            errors.append(f"callback_url: {exc}")
    if data.callback_url is not None and spells_the_subject(data.callback_url, emails, phones, names):
        errors.append("callback_url: must not hold the subject's own email, phone or name (it is kept to deliver "
                      "the final event, after the erasure)")
    if spells_the_subject(data.ticket, emails, phones, names):
        errors.append("ticket: must not hold the subject's own email, phone or name (a ticket is kept after the "
                      "erasure: in a Redis key, the certificate and the final event)")
    if data.kind not in AVAILABLE_KINDS:
        errors.append(f"kind: {data.kind.value!r} is not available in this release "
                      f"(available: {', '.join(sorted(k.value for k in AVAILABLE_KINDS))})")
    if data.kind is RequestKind.ACCESS:
        errors.extend(_access_refusals(data))
    if errors:
        raise IntakeError(errors)

    window = None
    if data.window_start and data.window_end:
        window = DateWindow(start=_aware(data.window_start), end=_aware(data.window_end))
    subject = Subject(emails=list(dict.fromkeys(emails)), phones=list(dict.fromkeys(phones)), names=names,
                      external_contact_ids=data.external_contact_ids, user_id=data.user_id)
    return ErasureRecord(
        ticket=data.ticket,
        subject=subject,
        verified_at=verified_at,
        kind=data.kind,
        window=window,
        approval=Approval(by=data.approved_by, via="intake") if data.approved_by else None,
        erase_by_name=data.erase_by_name,
        callback_url=data.callback_url,
        review_export=data.review_export,
        lane=data.lane,
    )


def _access_refusals(data: ErasureRequestIn) -> list[str]:
    """Options of an erasure that mean nothing for an access request, refused rather than ignored: a name
    is never sent with it (a GDPR_EXPORT by name would hand a namesake's data to this subject), and the
    platform's export has no date window. Approval is as for every kind: an export hands the subject's data
    to whoever reads its link, so it passes the same four-eyes gate."""
    errors: list[str] = []
    if data.erase_by_name:
        errors.append("erase_by_name: not for an access request (an export by name would include namesakes' data)")
    if data.window_start or data.window_end:
        errors.append("window_start/window_end: an access request exports everything the platform holds "
                      "on the subject; the platform's export takes no date window")
    if data.review_export:
        errors.append("review_export: an access request is itself an export; review before delete is for an "
                      "erase or anonymise request")
    return errors


def _describe(error: Mapping[str, Any]) -> str:
    """``field: problem`` from a pydantic error, without the offending input."""
    loc = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        # The key comes from the file or body and may itself be a value (a CSV without a header row,
        # a JSON key holding an address): never repeat it; point to the field it was probably meant as.
        close = difflib.get_close_matches(loc, list(ErasureRequestIn.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the fields are {', '.join(ErasureRequestIn.model_fields)}"
        return f"request: an unknown field (its name is not repeated){hint}"
    if not loc and ":" in message:
        return message
    return f"{loc or 'request'}: {message}"
