"""Unknown JSON properties in request bodies: the platform's ``invalid.property`` refusal.

Why: a client that sends a property the platform does not know (a typo, a field of another model, a
tutorial's invented field) gets a 400 from the real platform, while a permissive stand-in would accept it
and let the product pass its tests. So every body the simulator reads is checked against the SDK model's
known properties, recursively, before anything else is done with it (the platform deserialises first).

Sources.
- Property names: ``attribute_map`` of the models in PureCloudPlatformClientV2 269.0.0 (copied below;
  ``tests/simulator/test_unknown_properties.py`` compares them with the installed SDK).
- The refusal: the platform's standard 400 error map carries ``"invalid.property": "Value [%s] is not a
  valid property for object [%s]"`` (the ``x-inin-error-codes`` of its swagger, as embedded in the
  official CLI, MyPureCloud/platform-client-sdk-cli 166.0.0: e.g. ``POST /api/v2/outbound/dnclists/
  {dncListId}/phonenumbers``, ``GET /api/v2/analytics/dataextraction/downloads/{downloadId}``,
  ``PATCH /api/v2/routing/queues/{queueId}/members/{memberId}``). VERIFIED that the code and wording exist
  platform-wide. The error maps of the endpoints below are not in that source (the CLI embeds only the
  first response of each operation), so that THESE endpoints refuse is ASSUMED from the shared map;
  nothing found shows any of them ignoring unknown properties, so every one is strict ("default strict").
- Read-only properties (``id``, ``selfUri``, ``createdDate``, ``status``, ``createdBy``, ``resultsUrl`` of
  GDPRRequest; ``id`` and the like of Recording) are *known* properties: accepted and ignored, the server
  sets them (the SDK serialises every attribute a model has set, so a model read and sent back carries
  them). ASSUMED: the map's ``invalid.property`` names unknown properties, not read-only ones.

``SimConfig.strict_properties`` (default on) turns the whole check off for a test that needs the old
permissive behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .config import SimConfig
from .error_body import genesys_error

INVALID_PROPERTY = "invalid.property"

# Model -> property -> the model of its value (for an object or a list of objects), or None (a scalar,
# a list of scalars, or an object the simulator does not look into). SDK 269.0.0 attribute_map.
_FILTER_MODELS = {
    kind: {
        f"{kind}DetailQueryFilter": {"type": None, "clauses": f"{kind}DetailQueryClause",
                                     "predicates": f"{kind}DetailQueryPredicate"},
        f"{kind}DetailQueryClause": {"type": None, "predicates": f"{kind}DetailQueryPredicate"},
    }
    for kind in ("Conversation", "Segment", "Evaluation", "Survey", "Resolution")
}
_PREDICATE = {"type": None, "dimension": None, "metric": None, "operator": None, "value": None,
              "range": "NumericRange"}
_QUERY_COMMON = {
    "conversationFilters": "ConversationDetailQueryFilter",
    "segmentFilters": "SegmentDetailQueryFilter",
    "evaluationFilters": "EvaluationDetailQueryFilter",
    "surveyFilters": "SurveyDetailQueryFilter",
    "resolutionFilters": "ResolutionDetailQueryFilter",
    "order": None,
    "orderBy": None,
    "interval": None,
}

MODELS: dict[str, dict[str, str | None]] = {
    # GDPR
    "GDPRRequest": {"id": None, "name": None, "createdBy": "DomainEntityRef", "replacementTerms": "ReplacementTerm",
                    "requestType": None, "createdDate": None, "status": None, "subject": "GDPRSubject",
                    "resultsUrl": None, "resultsUrls": None, "selfUri": None},
    "DomainEntityRef": {"id": None, "name": None, "selfUri": None},
    "ReplacementTerm": {"type": None, "existingValue": None, "updatedValue": None},
    "GDPRSubject": {"name": None, "userId": None, "externalContactId": None, "dialerContactId": "DialerContactId",
                    "journeyCustomer": "GDPRJourneyCustomer", "socialHandle": "SocialHandle", "externalId": None,
                    "addresses": None, "phoneNumbers": None, "emailAddresses": None},
    "DialerContactId": {"id": None, "contactListId": None},
    "GDPRJourneyCustomer": {"type": None, "id": None},
    "SocialHandle": {"type": None, "value": None},
    # Analytics conversation details: the sync query and the async job query
    "ConversationQuery": {**_QUERY_COMMON, "aggregations": "AnalyticsQueryAggregation", "paging": "PagingSpec"},
    "AsyncConversationQuery": {**_QUERY_COMMON, "limit": None, "startOfDayIntervalMatching": None},
    **{name: props for models in _FILTER_MODELS.values() for name, props in models.items()},
    "ConversationDetailQueryPredicate": _PREDICATE,
    "SegmentDetailQueryPredicate": {**_PREDICATE, "propertyType": None, "property": None},
    "EvaluationDetailQueryPredicate": _PREDICATE,
    "SurveyDetailQueryPredicate": _PREDICATE,
    "ResolutionDetailQueryPredicate": {k: v for k, v in _PREDICATE.items() if k != "dimension"},
    "NumericRange": {"gt": None, "gte": None, "lt": None, "lte": None},
    "AnalyticsQueryAggregation": {"type": None, "dimension": None, "metric": None, "size": None,
                                  "ranges": "AggregationRange"},
    "AggregationRange": {"gte": None, "lt": None},
    "PagingSpec": {"pageSize": None, "pageNumber": None},
    # Recordings
    "RecordingJobsQuery": {"action": None, "actionDate": None, "actionAge": None, "screenRecordingActionDate": None,
                           "screenRecordingActionAge": None, "integrationId": None,
                           "includeRecordingsWithSensitiveData": None, "includeScreenRecordings": None,
                           "includePolicyBasedRecordings": None, "includeSnippetRecordings": None,
                           "clearExport": None, "conversationQuery": "AsyncConversationQuery",
                           "agedConversationInterval": None},
    "ExecuteRecordingJobsQuery": {"state": None},
    "ConversationDeletionProtectionQuery": {"conversationIds": None},
    # Top level only: the simulator reads the retention dates and nothing nested.
    "Recording": dict.fromkeys((
        "id", "name", "conversationId", "path", "startTime", "endTime", "media", "mediaSubtype", "mediaSubject",
        "annotations", "transcript", "emailTranscript", "messagingTranscript", "fileState", "restoreExpirationTime",
        "mediaUris", "estimatedTranscodeTimeMs", "actualTranscodeTimeMs", "archiveDate", "archiveMedium",
        "deleteDate", "exportDate", "exportedDate", "outputDurationMs", "outputSizeInBytes",
        "maxAllowedRestorationsForOrg", "remainingRestorationsAllowedForOrg", "sessionId", "users",
        "recordingFileRole", "recordingErrorStatus", "originalRecordingStartTime", "creationTime",
        "associatedConversationIds", "selfUri")),
    # External contacts
    "ContactIdentifier": {"division": "WritableStarrableDivision", "type": None, "value": None, "dateCreated": None,
                          "externalSource": "ExternalSource"},
    "WritableStarrableDivision": {"id": None, "name": None, "selfUri": None},
    "ExternalSource": {"id": None, "name": None, "active": None, "linkConfiguration": "LinkConfiguration",
                       "selfUri": None},
    "LinkConfiguration": {"uriTemplate": None},
    "BulkIdsRequest": {"entities": "ExternalContactsEntity"},
    "ExternalContactsEntity": {"id": None},
}

_SHARED_MAP = ("platform 400 error map (invalid.property), platform-client-sdk-cli 166.0.0 x-inin-error-codes; "
               "this endpoint's own map not found: strict ASSUMED")


@dataclass(frozen=True)
class BodyRule:
    """The decision for one endpoint: its body's SDK model (None: not an object), strict or lenient, why."""

    model: str | None
    strict: bool
    source: str


# Every simulated endpoint that reads a JSON body. Lenient only with a source showing the platform
# ignores unknown properties: none found, so all are strict.
BODY_RULES: dict[str, BodyRule] = {
    "POST /api/v2/gdpr/requests": BodyRule("GDPRRequest", True, _SHARED_MAP),
    "POST /api/v2/analytics/conversations/details/query": BodyRule("ConversationQuery", True, _SHARED_MAP),
    "POST /api/v2/analytics/conversations/details/jobs": BodyRule("AsyncConversationQuery", True, _SHARED_MAP),
    "POST /api/v2/recording/jobs": BodyRule("RecordingJobsQuery", True, _SHARED_MAP),
    "PUT /api/v2/recording/jobs/{jobId}": BodyRule("ExecuteRecordingJobsQuery", True, _SHARED_MAP),
    "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}": BodyRule(
        "Recording", True, _SHARED_MAP + "; top-level properties only"),
    "POST /api/v2/recordings/deletionprotection": BodyRule("ConversationDeletionProtectionQuery", True, _SHARED_MAP),
    "PUT /api/v2/recordings/deletionprotection": BodyRule("ConversationDeletionProtectionQuery", True, _SHARED_MAP),
    "POST /api/v2/externalcontacts/identifierlookup/contacts": BodyRule("ContactIdentifier", True, _SHARED_MAP),
    "POST /api/v2/externalcontacts/bulk/contacts": BodyRule("BulkIdsRequest", True, _SHARED_MAP),
    "POST /api/v2/externalcontacts/bulk/contacts/remove": BodyRule("BulkIdsRequest", True, _SHARED_MAP),
    # A JSON array of message ids (SDK: list[str]): there are no properties to know.
    "POST /api/v2/conversations/messages/{conversationId}/messages/bulk": BodyRule(
        None, True, "SDK post_conversations_message_messages_bulk body list[str]: no properties"),
}


def unknown_property(value: Any, model: str) -> tuple[str, str] | None:
    """The first (property, model) in ``value`` that ``model`` does not know, looking into nested models."""
    if isinstance(value, list):
        for item in value:
            found = unknown_property(item, model)
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return None  # a type mismatch is the handler's own 400, not this one
    known = MODELS[model]
    for key, item in value.items():
        if key not in known:
            return str(key), model
        nested = known[key]
        if nested is not None and item is not None:
            found = unknown_property(item, nested)
            if found:
                return found
    return None


def refusal(config: SimConfig, request: Request, endpoint: str, body: Any) -> JSONResponse | None:
    """The platform's 400 for a body with a property its model does not know, or None to go on."""
    rule = BODY_RULES[endpoint]
    if not config.strict_properties or not rule.strict or rule.model is None:
        return None
    found = unknown_property(body, rule.model)
    if found is None:
        return None
    name, model = found
    return genesys_error(request, 400, f"Value [{name[:100]}] is not a valid property for object [{model}]",
                         INVALID_PROPERTY)
