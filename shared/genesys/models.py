"""Typed views of the Genesys JSON this project reads (field names from the SDK's attribute_map).

Only the fields we use are declared; everything else is kept by ``extra="allow"`` so nothing the
platform sends is lost when a model is dumped again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    # hide_input_in_errors: a contact or user that fails validation must not put its fields in the error text.
    model_config = ConfigDict(extra="allow", populate_by_name=True, hide_input_in_errors=True)


# Every property of the SDK model GDPRSubject (269.0.0 attribute_map): a request body may carry no other
# (the platform answers 400 invalid.property), even when the subject was read from an answer with more.
GDPR_SUBJECT_PROPERTIES = frozenset({
    "name", "userId", "externalContactId", "dialerContactId", "journeyCustomer", "socialHandle", "externalId",
    "addresses", "phoneNumbers", "emailAddresses"})


class GdprJourneyCustomer(_Model):
    """SDK ``GDPRJourneyCustomer``: a web-messaging guest's journey id; each field requires the other."""

    type: str
    id: str


class GdprSubject(_Model):
    name: str | None = None
    user_id: str | None = Field(default=None, alias="userId")
    external_contact_id: str | None = Field(default=None, alias="externalContactId")
    external_id: str | None = Field(default=None, alias="externalId")
    addresses: list[str] = Field(default_factory=list)
    phone_numbers: list[str] = Field(default_factory=list, alias="phoneNumbers")
    email_addresses: list[str] = Field(default_factory=list, alias="emailAddresses")
    journey_customer: GdprJourneyCustomer | None = Field(default=None, alias="journeyCustomer")

    def to_body(self) -> dict[str, object]:
        body = self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
        return {key: value for key, value in body.items() if key in GDPR_SUBJECT_PROPERTIES}


class EntityRef(_Model):
    """SDK ``DomainEntityRef``: who or what an entity points at (``createdBy`` of a GDPR request)."""

    id: str | None = None


class GdprRequest(_Model):
    id: str
    name: str | None = None
    request_type: str = Field(alias="requestType")
    status: str
    created_date: str | None = Field(default=None, alias="createdDate")
    subject: GdprSubject | None = None
    created_by: EntityRef | None = Field(default=None, alias="createdBy")
    # A completed GDPR_EXPORT's download links: bearer secrets to personal data, never in a repr or log.
    results_url: str | None = Field(default=None, alias="resultsUrl", repr=False)
    results_urls: list[str] = Field(default_factory=list, alias="resultsUrls", repr=False)

    @property
    def creator_id(self) -> str | None:
        return self.created_by.id if self.created_by is not None else None

    @property
    def is_final(self) -> bool:
        return self.status in {"COMPLETED", "ERROR"}


class Listing(_Model):
    page_size: int | None = Field(default=None, alias="pageSize")
    page_number: int | None = Field(default=None, alias="pageNumber")
    total: int | None = None
    page_count: int | None = Field(default=None, alias="pageCount")
    next_uri: str | None = Field(default=None, alias="nextUri")


class GdprRequestListing(Listing):
    entities: list[GdprRequest] = Field(default_factory=list)


class PhoneNumber(_Model):
    display: str | None = None
    e164: str | None = None


class ContactIdentifier(_Model):
    type: str | None = None
    value: str | None = None


class ExternalContact(_Model):
    id: str
    canonical_contact: EntityRef | None = Field(default=None, alias="canonicalContact")
    merge_set: list[EntityRef] = Field(default_factory=list, alias="mergeSet")
    merged_from: list[EntityRef] = Field(default_factory=list, alias="mergedFrom")
    merged_to: EntityRef | None = Field(default=None, alias="mergedTo")
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    work_email: str | None = Field(default=None, alias="workEmail")
    personal_email: str | None = Field(default=None, alias="personalEmail")
    other_email: str | None = Field(default=None, alias="otherEmail")
    work_phone: PhoneNumber | None = Field(default=None, alias="workPhone")
    cell_phone: PhoneNumber | None = Field(default=None, alias="cellPhone")
    home_phone: PhoneNumber | None = Field(default=None, alias="homePhone")
    other_phone: PhoneNumber | None = Field(default=None, alias="otherPhone")
    identifiers: list[ContactIdentifier] = Field(default_factory=list)

    def emails(self) -> list[str]:
        found = [self.work_email, self.personal_email, self.other_email]
        found += [i.value for i in self.identifiers if i.type == "Email"]
        return [e for e in found if e]

    def phones(self) -> list[str]:
        found = [p.e164 or p.display for p in (self.work_phone, self.cell_phone, self.home_phone,
                                               self.other_phone) if p]
        found += [i.value for i in self.identifiers if i.type == "Phone"]
        return [p for p in found if p]

    def cookies(self) -> list[str]:
        """Journey cookie ids of a web-messaging guest (identifiers of type ``Cookie``)."""
        return [i.value for i in self.identifiers if i.type == "Cookie" and i.value]

    def linked_contact_ids(self) -> list[str]:
        """Contacts merged with this one: the same person under another record."""
        refs = [self.canonical_contact, self.merged_to, *self.merge_set, *self.merged_from]
        return list(dict.fromkeys(r.id for r in refs if r is not None and r.id and r.id != self.id))

    def full_name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None


class BulkItemError(_Model):
    """SDK ``BulkErrorEntity`` / ``BulkEntityErrorEntity``: why one id of a bulk call failed."""

    code: str | None = None
    status: int | None = None
    retryable: bool | None = None
    entity: EntityRef | None = None  # the entity of the request that failed


class BulkItemResult(_Model):
    """One id's result in a bulk external-contacts answer (SDK ``BulkResponseResult...``)."""

    id: str | None = None
    success: bool = False
    status: int | None = None
    entity: dict[str, Any] | None = None
    error: BulkItemError | None = None

    @property
    def answered_id(self) -> str | None:
        """The id this result is for: its own, or (a failure may carry only that) its error's entity."""
        if self.id:
            return self.id
        return self.error.entity.id if self.error is not None and self.error.entity is not None else None

    @property
    def status_code(self) -> int:
        """The item's HTTP status: given, or the error's, or 200 for a success."""
        if self.status is not None:
            return self.status
        if self.error is not None and self.error.status is not None:
            return self.error.status
        return 200 if self.success else 500


class BulkResponse(_Model):
    """SDK ``BulkFetchContactsResponse`` / ``BulkDeleteResponse``; results may come in any order."""

    results: list[BulkItemResult] = Field(default_factory=list)
    error_count: int | None = Field(default=None, alias="errorCount")


class AnalyticsSession(_Model):
    session_id: str | None = Field(default=None, alias="sessionId")
    media_type: str | None = Field(default=None, alias="mediaType")
    ani: str | None = None
    dnis: str | None = None
    address_from: str | None = Field(default=None, alias="addressFrom")
    address_to: str | None = Field(default=None, alias="addressTo")
    remote: str | None = None
    journey_customer_id: str | None = Field(default=None, alias="journeyCustomerId")


class AnalyticsParticipant(_Model):
    participant_id: str | None = Field(default=None, alias="participantId")
    participant_name: str | None = Field(default=None, alias="participantName")
    purpose: str | None = None
    user_id: str | None = Field(default=None, alias="userId")
    external_contact_id: str | None = Field(default=None, alias="externalContactId")
    sessions: list[AnalyticsSession] = Field(default_factory=list)


class AnalyticsConversation(_Model):
    conversation_id: str = Field(alias="conversationId")
    conversation_start: str | None = Field(default=None, alias="conversationStart")
    conversation_end: str | None = Field(default=None, alias="conversationEnd")
    participants: list[AnalyticsParticipant] = Field(default_factory=list)

    def media_types(self) -> set[str]:
        return {s.media_type for p in self.participants for s in p.sessions if s.media_type}

    def identifying_values(self) -> list[str]:
        """Every field value that could identify a participant (for verification)."""
        out: list[str] = []
        for p in self.participants:
            out += [v for v in (p.participant_name, p.external_contact_id) if v]
            for s in p.sessions:
                out += [v for v in (s.ani, s.dnis, s.address_from, s.address_to, s.remote) if v]
        return out


class ConversationQueryResponse(_Model):
    conversations: list[AnalyticsConversation] = Field(default_factory=list)
    total_hits: int = Field(default=0, alias="totalHits")


class ConversationMultiGetResponse(_Model):
    """SDK `AnalyticsConversationWithoutAttributesMultiGetResponse`: the conversations found by id (unknown
    ids are simply absent)."""

    conversations: list[AnalyticsConversation] = Field(default_factory=list)


class MessageDetails(_Model):
    message_id: str | None = Field(default=None, alias="messageId")


class MessageParticipant(_Model):
    id: str | None = None
    purpose: str | None = None
    messages: list[MessageDetails] = Field(default_factory=list)


class MessageConversation(_Model):
    id: str
    participants: list[MessageParticipant] = Field(default_factory=list)

    def message_ids(self) -> list[str]:
        return [m.message_id for p in self.participants for m in p.messages if m.message_id]


class NormalizedMessage(_Model):
    text: str | None = None


class MessageData(_Model):
    id: str
    text_body: str | None = Field(default=None, alias="textBody")
    normalized_message: NormalizedMessage | None = Field(default=None, alias="normalizedMessage")
    from_address: str | None = Field(default=None, alias="fromAddress")
    to_address: str | None = Field(default=None, alias="toAddress")
    direction: str | None = None

    @property
    def from_customer(self) -> bool:
        return (self.direction or "").lower() == "inbound"

    @property
    def text(self) -> str:
        if self.text_body:
            return self.text_body
        return (self.normalized_message.text if self.normalized_message else None) or ""


class MessageListing(_Model):
    entities: list[MessageData] = Field(default_factory=list)


class DetailsJobStatus(_Model):
    state: str
    error_message: str | None = Field(default=None, alias="errorMessage")

    @property
    def is_final(self) -> bool:
        return self.state in {"FULFILLED", "FAILED", "CANCELLED", "EXPIRED"}


class DetailsJobResults(_Model):
    conversations: list[AnalyticsConversation] = Field(default_factory=list)
    cursor: str | None = None
    # The job saw data only up to here (the data lake lags behind now): later conversations are not in it.
    data_availability_date: str | None = Field(default=None, alias="dataAvailabilityDate")


class DataAvailability(_Model):
    """``DataAvailabilityResponse``: how far the data lake the async details jobs read reaches."""

    data_availability_date: str | None = Field(default=None, alias="dataAvailabilityDate")


class User(_Model):
    id: str
    name: str | None = None
    email: str | None = None
    state: str | None = None


class Recording(_Model):
    """A conversation's recording (only the fields deletion and verification read)."""

    id: str
    conversation_id: str | None = Field(default=None, alias="conversationId")
    media: str | None = None
    file_state: str | None = Field(default=None, alias="fileState")


class RecordingJob(_Model):
    """A recording bulk job (``RecordingJob``): PENDING -> READY -> PROCESSING -> FULFILLED | FAILED."""

    id: str
    state: str
    recording_jobs_query: dict[str, Any] | None = Field(default=None, alias="recordingJobsQuery")
    date_created: str | None = Field(default=None, alias="dateCreated")
    total_conversations: int | None = Field(default=None, alias="totalConversations")
    total_recordings: int | None = Field(default=None, alias="totalRecordings")
    total_skipped_recordings: int | None = Field(default=None, alias="totalSkippedRecordings")
    total_failed_recordings: int | None = Field(default=None, alias="totalFailedRecordings")
    total_processed_recordings: int | None = Field(default=None, alias="totalProcessedRecordings")
    error_message: str | None = Field(default=None, alias="errorMessage")

    @property
    def is_final(self) -> bool:
        return self.state in {"FULFILLED", "FAILED", "CANCELLED"}


class RecordingJobListing(Listing):
    entities: list[RecordingJob] = Field(default_factory=list)


class FailedRecording(_Model):
    """One recording a job could not act on (``RecordingJobFailedRecording``)."""

    conversation: EntityRef | None = None
    recording: EntityRef | None = None


class FailedRecordingListing(Listing):
    entities: list[FailedRecording] = Field(default_factory=list)
    cursor: str | None = None
