"""The client meters every call, pauses everyone on 429, renews tokens, and maps errors."""

import json

import fakeredis
import httpx
import pytest

from shared.genesys import (
    BadRequest,
    GenesysClient,
    GenesysError,
    JobSlotsFull,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TokenProvider,
)
from shared.genesys.models import GdprSubject
from shared.genesys.token_seal import token_cache_key
from shared.ratelimit import BucketConfig, RateLimiter, RateLimitWait
from tests.support.ratelimit_clock import install_fake_clock


class RecordingLimiter:
    def __init__(self):
        self.acquired = 0
        self.pauses = []
        self.headers = []

    def acquire(self, pool="default", *, max_block_s=5.0, lane=None):
        self.acquired += 1
        return 0.0

    def on_rate_limited(self, retry_after_s):
        self.pauses.append(retry_after_s)

    def on_response_headers(self, headers):
        self.headers.append(dict(headers))


def make_client(handler):
    http = httpx.Client(transport=httpx.MockTransport(handler))
    limiter = RecordingLimiter()
    tokens = TokenProvider(http, "https://login.mypurecloud.ie", "id", "secret")
    client = GenesysClient(api_base_url="https://api.mypurecloud.ie", tokens=tokens, limiter=limiter, http=http)
    client._backoff = lambda attempt: None
    return client, limiter


def token_or(handler):
    issued = []

    def wrapped(request):
        if request.url.path == "/oauth/token":
            assert request.url.host == "login.mypurecloud.ie"
            issued.append(1)
            return httpx.Response(200, json={"access_token": f"tok{len(issued)}", "expires_in": 86400})
        return handler(request)

    wrapped.issued = issued
    return wrapped


def test_429_pauses_through_limiter_then_succeeds():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"code": "too.many.requests.retry.after"})
        return httpx.Response(200, json={"id": "g1", "requestType": "GDPR_DELETE", "status": "INITIATED"},
                              headers={"inin-ratelimit-count": "3", "inin-ratelimit-allowed": "300"})

    client, limiter = make_client(token_or(handler))
    created = client.create_gdpr_request("GDPR_DELETE", GdprSubject(emailAddresses=["a@example.org"]), name="n")
    assert created.id == "g1"
    assert limiter.pauses == [7.0]
    assert limiter.acquired == 2
    # Every response's headers reach the limiter, the 429's first, then the answer's rate-limit window.
    assert len(limiter.headers) == 2
    assert limiter.headers[0]["retry-after"] == "7"
    assert limiter.headers[1]["inin-ratelimit-count"] == "3"
    assert limiter.headers[1]["inin-ratelimit-allowed"] == "300"
    assert calls[-1].url.params["deleteConfirmed"] == "true"
    assert calls[-1].headers["Authorization"] == "Bearer tok1"


def test_401_renews_token_once():
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        if len(seen) == 1:
            return httpx.Response(401, json={"code": "bad.credentials"})
        return httpx.Response(200, json={"entities": []})

    wrapped = token_or(handler)
    client, _ = make_client(wrapped)
    assert client.search_gdpr_subjects("EMAIL", "a@example.org") == []
    assert seen == ["Bearer tok1", "Bearer tok2"]


def test_errors_never_echo_body_or_ids():
    def handler(request):
        return httpx.Response(403, json={"code": "missing.permissions", "message": "jane@example.org"})

    client, _ = make_client(token_or(handler))
    with pytest.raises(PermissionDenied) as info:
        client.get_gdpr_request("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert "jane" not in str(info.value)
    assert "0f8fad5b" not in str(info.value)
    assert info.value.code == "missing.permissions"


def test_404_is_not_found():
    client, _ = make_client(token_or(lambda request: httpx.Response(404, json={"code": "not.found"})))
    with pytest.raises(NotFound):
        client.get_gdpr_request("x")


def test_token_shared_through_redis_between_providers():
    import fakeredis

    issued = []

    def handler(request):
        issued.append(1)
        return httpx.Response(200, json={"access_token": f"tok{len(issued)}", "expires_in": 86400})

    cache = fakeredis.FakeRedis()
    http = httpx.Client(transport=httpx.MockTransport(handler))
    key = token_cache_key(b"k" * 32)
    first = TokenProvider(http, "https://login.x", "id", "s", cache=cache, cache_prefix="t", cache_key=key)
    second = TokenProvider(http, "https://login.x", "id", "s", cache=cache, cache_prefix="t", cache_key=key)
    assert first.token() == second.token() == "tok1"
    assert len(issued) == 1
    assert not any(b"tok1" in (cache.get(k) or b"") for k in cache.scan_iter())  # sealed in Redis, never in clear
    second.invalidate("tok1")
    assert first.token() == "tok1"  # still cached in process until the platform refuses it
    assert second.token() == "tok2"
    first.invalidate("tok1")
    assert first.token() == "tok2"
    assert len(issued) == 2


def _gdpr_created(request):
    return httpx.Response(200, json={"id": "g1", "requestType": "GDPR_DELETE", "status": "INITIATED"})


@pytest.mark.parametrize("first_answer", [
    lambda request: httpx.Response(503, json={"code": "service.unavailable"}),
    lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("no answer", request=request)),
])
def test_a_creating_call_that_may_have_landed_is_not_sent_again(first_answer):
    """A GDPR request whose answer was lost may exist: a second POST would be a second erasure."""
    from shared.genesys import ServerError, TransportError

    posts = []

    def handler(request):
        posts.append(request)
        return first_answer(request) if len(posts) == 1 else _gdpr_created(request)

    client, _ = make_client(token_or(handler))
    with pytest.raises((ServerError, TransportError)) as raised:
        client.create_gdpr_request("GDPR_DELETE", GdprSubject(emailAddresses=["a@example.org"]), name="n")
    assert len(posts) == 1
    assert "a@example.org" not in str(raised.value)


def test_a_creating_call_that_never_left_is_retried_and_reads_are_retried_after_5xx():
    posts, reads = [], []

    def handler(request):
        if request.method == "POST":
            posts.append(request)
            if len(posts) == 1:
                raise httpx.ConnectError("refused", request=request)
            return _gdpr_created(request)
        reads.append(request)
        return httpx.Response(503) if len(reads) == 1 else httpx.Response(200, json={"entities": []})

    client, _ = make_client(token_or(handler))
    assert client.create_gdpr_request("GDPR_DELETE", GdprSubject(emailAddresses=["a@example.org"]), name="n").id == "g1"
    assert len(posts) == 2
    assert client.search_gdpr_subjects("EMAIL", "a@example.org") == [] and len(reads) == 2


def _bulk_answer(per_id):
    """A bulk external-contacts handler answering each id with ``per_id(id)`` -> (status, entity)."""
    calls = []

    def handler(request):
        ids = [e["id"] for e in json.loads(request.content)["entities"]]
        calls.append(ids)
        results = []
        for contact_id in ids:
            status, entity = per_id(contact_id)
            if status == 200:
                results.append({"id": contact_id, "success": True, "status": 200, "entity": entity})
            else:
                results.append({"id": contact_id, "success": False, "status": status,
                                "error": {"code": f"e{status}", "status": status}})
        return httpx.Response(200, json={"results": results[::-1]})  # order is not guaranteed

    handler.calls = calls
    return handler


def test_bulk_contact_reads_go_a_hundred_ids_per_call_and_unknown_ids_are_absent():
    handler = _bulk_answer(lambda c: (404, None) if c.endswith("7") else (200, {"id": c, "firstName": "X"}))
    client, limiter = make_client(token_or(handler))
    ids = [f"c{i}" for i in range(250)]
    reads = client.get_contacts_bulk([*ids, "c1"])  # a repeated id is asked for once
    assert [len(c) for c in handler.calls] == [100, 100, 50]
    assert set(reads.found) == {c for c in ids if not c.endswith("7")} and reads.errors == {}
    assert limiter.acquired == 3


def test_a_contact_is_found_under_the_id_asked_for_even_when_the_platform_answers_its_merge_target():
    client, _ = make_client(token_or(_bulk_answer(lambda c: (200, {"id": "canonical", "firstName": "X"}))))
    reads = client.get_contacts_bulk(["merged-away"])
    assert set(reads.found) == {"merged-away"} and reads.found["merged-away"].id == "canonical"


def test_bulk_contact_removal_reports_each_id_and_sets_other_failures_apart():
    statuses = {"gone": 404, "held": 409, "ok": 200, "bad": 503, "denied": 403}
    client, _ = make_client(token_or(_bulk_answer(lambda c: (statuses[c], {"id": c}))))
    answered, errors = client.delete_contacts_bulk(["ok", "gone", "held", "bad", "denied"])
    assert {c: (r.success, r.status_code) for c, r in answered.items()} == {
        "ok": (True, 200), "gone": (False, 404), "held": (False, 409)}
    assert answered["held"].error.code == "e409"
    assert isinstance(errors["bad"], ServerError) and isinstance(errors["denied"], PermissionDenied)
    assert "bad" not in str(errors["bad"]) and "denied" not in str(errors["denied"])
    reads = client.get_contacts_bulk(["bad", "gone"])
    assert reads.found == {} and set(reads.errors) == {"bad"}  # "not readable" is never taken for "gone"
    with pytest.raises(ValueError):
        client.delete_contacts_bulk([f"c{i}" for i in range(101)])


def test_a_failed_result_that_names_its_id_only_in_the_error_is_matched():
    def handler(request):
        return httpx.Response(200, json={"results": [
            {"success": False, "error": {"code": "contact.not.found", "status": 404, "entity": {"id": "c1"}}}]})

    client, _ = make_client(token_or(handler))
    reads = client.get_contacts_bulk(["c1"])
    assert reads.found == {} and reads.errors == {}  # gone


def test_a_bulk_answer_missing_an_id_raises():
    def handler(request):
        return httpx.Response(200, json={"results": []})

    client, _ = make_client(token_or(handler))
    with pytest.raises(GenesysError):
        client.get_contacts_bulk(["c1"])


WINDOW = {"inin-ratelimit-count": "299", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "30"}


def test_every_answer_reports_its_rate_limit_window_to_the_limiter():
    answers = iter([
        httpx.Response(200, json={"entities": []}, headers={**WINDOW, "inin-ratelimit-count": "10"}),
        httpx.Response(404, json={"code": "not.found"}, headers={**WINDOW, "inin-ratelimit-count": "11"}),
        httpx.Response(429, json={"code": "too.many.requests"}, headers={**WINDOW, "Retry-After": "4"}),
        httpx.Response(200, json={"id": "g1", "requestType": "GDPR_DELETE", "status": "INITIATED"}, headers=WINDOW),
    ])
    client, limiter = make_client(token_or(lambda request: next(answers)))
    client.search_gdpr_subjects("EMAIL", "a@example.org")
    with pytest.raises(NotFound):
        client.get_gdpr_request("g0")
    assert client.get_gdpr_request("g1").id == "g1"
    assert [h["inin-ratelimit-count"] for h in limiter.headers] == ["10", "11", "299", "299"]
    assert all(h["inin-ratelimit-allowed"] == "300" and h["inin-ratelimit-reset"] == "30" for h in limiter.headers)
    assert limiter.pauses == [4.0]  # the 429's Retry-After, as seconds


@pytest.mark.parametrize(("retry_after", "reported"), [("12.5", 12.5), ("soon", 1.0), ("-3", 0.0), ("600", 120.0)])
def test_retry_after_reaches_the_limiter_read_and_capped(retry_after, reported):
    answers = iter([httpx.Response(429, headers={"Retry-After": retry_after}),
                    httpx.Response(200, json={"entities": []})])
    client, limiter = make_client(token_or(lambda request: next(answers)))
    client.search_gdpr_subjects("EMAIL", "a@example.org")
    assert limiter.pauses == [reported]


def test_the_last_429_is_raised_after_pausing_everyone():
    client, limiter = make_client(token_or(lambda request: httpx.Response(429, headers={"Retry-After": "2"})))
    with pytest.raises(RateLimited) as raised:
        client.search_gdpr_subjects("EMAIL", "a@example.org")
    assert raised.value.retry_after_s == 2.0
    assert limiter.pauses == [2.0] * 5 and limiter.acquired == 5


# --- with the real limiter on fakeredis ----------------------------------------------------------


def metered_client(monkeypatch, handler, *, rate=5.0, burst=10, max_block_s=5.0):
    """The client on a real RateLimiter whose Redis (fakeredis) and sleep run on one fake clock."""
    clock = install_fake_clock(monkeypatch)
    limiter = RateLimiter(fakeredis.FakeRedis(), "client-a", BucketConfig(rate_per_s=rate, burst=burst),
                          sleep=clock.advance)
    http = httpx.Client(transport=httpx.MockTransport(token_or(handler)))
    tokens = TokenProvider(http, "https://login.mypurecloud.ie", "id", "secret")
    client = GenesysClient(api_base_url="https://api.mypurecloud.ie", tokens=tokens, limiter=limiter, http=http,
                           max_block_s=max_block_s)
    return client, limiter, clock


def test_a_nearly_spent_window_holds_the_next_call_until_the_reset(monkeypatch):
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(200, json={"entities": []}, headers=WINDOW)

    client, limiter, clock = metered_client(monkeypatch, handler)
    assert limiter.paused_for() == 0.0  # a fresh bucket would grant its burst of 10 at once
    client.search_gdpr_subjects("EMAIL", "a@example.org")
    # 1 request left in a window that resets in 30 s: the bucket now grants its next token at the reset.
    assert limiter.paused_for() == 30.0
    with pytest.raises(RateLimitWait) as info:
        client.search_gdpr_subjects("EMAIL", "a@example.org")
    assert info.value.wait_s == 30.0
    assert len(sent) == 1  # the second call never left
    clock.advance(30)
    client.search_gdpr_subjects("EMAIL", "a@example.org")
    assert len(sent) == 2


def test_a_429_holds_the_retry_until_retry_after_then_one_interval(monkeypatch):
    sent_at = []

    def handler(request):
        sent_at.append(clock.now_us)
        if len(sent_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return httpx.Response(200, json={"entities": []})

    client, limiter, clock = metered_client(monkeypatch, handler, rate=5, burst=10, max_block_s=10)
    assert client.search_gdpr_subjects("EMAIL", "a@example.org") == []
    # The retry went out after Retry-After (7 s) plus one interval (1/5 s), never earlier, never a burst.
    assert sent_at[1] - sent_at[0] == 7_200_000
    assert limiter.paused_for() == 0.2


def test_failed_recordings_are_read_past_the_first_page():
    """The platform gives a page count only with includeTotal=true (cursor paging otherwise): a client
    that does not ask stops after page 1 and reports a job's failed recordings short."""
    from services.polling.recording_follow import _failed
    from shared.genesys.models import RecordingJob

    def handler(request):
        params = request.url.params
        number = int(params["pageNumber"])
        entities = [{"conversation": {"id": f"c{number}-{n}"}, "recording": {"id": f"r{n}"}}
                    for n in range(100 if number == 1 else 5)]
        body = {"entities": entities, "pageSize": 100, "pageNumber": number}
        if params.get("includeTotal") == "true":
            body |= {"total": 105, "pageCount": 2}
        return httpx.Response(200, json=body)

    client, _ = make_client(token_or(handler))
    job = RecordingJob.model_validate({"id": "job-1", "state": "FULFILLED", "totalFailedRecordings": 105})
    assert len(_failed(client, job)) == 105


# --- "too many jobs" on a job submission: a slot wait for the caller, not a rate limit ----------------

_SPENT = {"inin-ratelimit-count": "300", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "20"}
_LEFT = {"inin-ratelimit-count": "12", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "20"}


@pytest.mark.parametrize("refusal", [
    httpx.Response(429, headers={"Retry-After": "9", **_LEFT}, json={"code": "too.many.requests.retry.after"}),
    httpx.Response(400, json={"code": "bad.request", "message": "Too many jobs are pending or processing."}),
    httpx.Response(400, json={"code": "too.many.jobs", "message": "refused"}),
], ids=["429-budget-left", "400-message", "400-code"])
def test_a_job_refused_for_too_many_jobs_waits_alone_and_is_sent_once(refusal):
    calls = []
    client, limiter = make_client(token_or(lambda request: calls.append(request) or refusal))
    with pytest.raises(JobSlotsFull) as raised:
        client.create_recording_job({"action": "DELETE"})
    assert limiter.pauses == [] and len(calls) == 1
    assert raised.value.status == refusal.status_code and not isinstance(raised.value, RateLimited)
    assert raised.value.defer_s == (9.0 if refusal.status_code == 429 else 2.0)  # 400: no Retry-After, the floor


def test_a_job_submission_429_without_rate_limit_headers_is_taken_as_the_rate_limit():
    """Nothing says the budget is fine: pausing everyone is the safe reading (a slot wait would let every
    other worker keep sending into a real rate limit)."""
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "too.many.requests.retry.after"}),
                    httpx.Response(202, json={"jobId": "j1"})])
    client, limiter = make_client(token_or(lambda request: next(answers)))
    assert client.submit_details_job({"interval": "x"}) == "j1"
    assert limiter.pauses == [3.0]


def test_a_job_submission_429_with_the_budget_spent_is_the_real_rate_limit():
    answers = iter([httpx.Response(429, headers={"Retry-After": "4", **_SPENT}),
                    httpx.Response(202, json={"jobId": "j1"})])
    client, limiter = make_client(token_or(lambda request: next(answers)))
    assert client.submit_details_job({"interval": "x"}) == "j1"
    assert limiter.pauses == [4.0]  # everyone pauses: the request budget is what ran out


def test_a_plain_bad_job_submission_is_still_a_bad_request():
    bad = httpx.Response(400, json={"code": "bad.request", "message": "A filter in segmentFilters has 101 predicates."})
    client, limiter = make_client(token_or(lambda request: bad))
    with pytest.raises(BadRequest):
        client.submit_details_job({"interval": "x"})
    assert limiter.pauses == []


def test_too_many_jobs_elsewhere_than_a_job_submission_is_a_rate_limit_as_before():
    client, limiter = make_client(token_or(lambda request: httpx.Response(429, headers={"Retry-After": "2", **_LEFT})))
    with pytest.raises(RateLimited):
        client.search_gdpr_subjects("EMAIL", "a@example.org")
    assert limiter.pauses == [2.0] * 5



HOSTILE_IDS = ["", ".", "..", "../externalcontacts/contacts/0000", "a/b?c=d#e", "%2e%2e", "%2e%2e/x", "..\\..",
               "\u2025", "@evil.example", " ", "id\n", "-leading", "x" * 129]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_an_id_that_is_not_a_platform_ids_shape_is_refused_without_a_call(hostile):
    """Ids reach URL paths from intake (user_id), platform answers (conversation, job ids) and the export
    review: '' would name the collection (/api/v2/users/), '.'/'..' the resource above. Each is refused
    before anything is sent, as a BadRequest (never retried: it fails its one request) without the id."""
    from shared.genesys import BadRequest, InvalidPathId

    seen = []

    def handler(request):
        seen.append((request.method, request.url.raw_path.decode()))
        return httpx.Response(404, json={"code": "not.found"})

    client, limiter = make_client(token_or(handler))
    calls = [lambda: client.get_user(hostile), lambda: client.delete_user(hostile),
             lambda: client.get_gdpr_request(hostile), lambda: client.get_details_job(hostile),
             lambda: client.delete_details_job(hostile), lambda: client.conversation_recordings(hostile),
             lambda: client.delete_recording_now("c0ffee00-0000-4000-8000-000000000001", hostile, "2026-01-01"),
             lambda: client.delete_recording_now(hostile, "r-1", "2026-01-01"),
             lambda: client.get_recording_job(hostile), lambda: client.start_recording_job(hostile),
             lambda: client.failed_recordings(hostile), lambda: client.get_message_conversation(hostile),
             lambda: client.get_messages_bulk(hostile, ["m-1"])]
    for call in calls:
        with pytest.raises(InvalidPathId) as refused:
            call()
        assert isinstance(refused.value, BadRequest) and isinstance(refused.value, ValueError)
        if len(hostile.strip()) > 2:  # a '.' is in any sentence
            assert hostile.strip() not in str(refused.value)
    assert seen == [] and limiter.acquired == 0


@pytest.mark.parametrize("good", ["0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E",
                                  "agent-0001", "u-1", "c0ffee00:1.2_x", "x" * 128])
def test_an_id_of_a_platform_ids_shape_is_one_path_segment(good):
    from urllib.parse import quote

    seen = []

    def handler(request):
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"code": "not.found"})

    client, _ = make_client(token_or(handler))
    assert client.get_user(good) is None
    assert client.conversation_recordings(good) == []
    segment = quote(good, safe="")  # ':' goes as %3A: the quoting stays as a second guard
    assert seen == [f"/api/v2/users/{segment}", f"/api/v2/conversations/{segment}/recordings?formatId=NONE"]


def test_a_sealed_token_does_not_open_with_another_key_or_under_another_name():
    """The token in Redis is AES-GCM sealed, bound to its key name: another key, a moved or edited value,
    or a value left in clear by an older version are cache misses (a fresh token is fetched), not tokens."""
    from shared.genesys.token_seal import seal, unseal

    key, other = token_cache_key(b"k" * 32), token_cache_key(b"j" * 32)
    sealed = seal(key, "tok|123.0", "t:oauth:1")
    assert "tok" not in sealed
    assert unseal(key, sealed, "t:oauth:1") == "tok|123.0"
    assert unseal(other, sealed, "t:oauth:1") is None
    assert unseal(key, sealed, "t:oauth:2") is None
    assert unseal(key, sealed[:-4] + "AAA=", "t:oauth:1") is None
    assert unseal(key, "tok|123.0", "t:oauth:1") is None
    assert token_cache_key(b"k" * 32) != b"k" * 32  # derived, not the HMAC key itself


def test_a_token_cache_without_a_sealing_key_is_refused():
    import fakeredis

    with pytest.raises(ValueError, match="sealed"):
        TokenProvider(httpx.Client(), "https://login.x", "id", "s", cache=fakeredis.FakeRedis())
