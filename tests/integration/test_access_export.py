"""Access requests (issue 17) with real workers, Redis and the simulator over HTTP.

An access request runs discovery and one GDPR_EXPORT, and ends COMPLETED with the platform's download
link handed over (the authenticated API, the signed final event) and its expiry, while nothing of the
export (its link, its content) is anywhere else in Redis, the worker logs or the output files. The
GDPR_EXPORT is made once, even when the deletion task is delivered twice at once, and even when Redis lost
the intent and the state move that followed the call. Options of an erasure that make no sense for an
access request are refused by field at intake, with nothing enqueued."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.celery_app import create_app
from shared.models import RequestKind, RequestState
from shared.task_names import DELETE_TASK
from tests.integration.test_intake_refusals import queued
from tests.support.intake_api import create_key, running_api
from tests.support.signed_receiver import SignedReceiver
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final, wait_until

SECRET = "whsec_" + base64.b64encode(b"access-tests-webhook-key-32byte!").decode()
UUID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$")  # platform ids


@pytest.fixture()
def access_stack(tmp_path, redis_available):
    receiver = SignedReceiver(SECRET)
    try:
        with running_stack(tmp_path, redis_available, SimConfig(subjects=3, seed=5, gdpr_step_s=0.2, rate_limit=6000),
                           ERASURE_WEBHOOK_TARGETS=json.dumps([f"http://127.0.0.1:{receiver.port}/hook"]),
                           ERASURE_WEBHOOK_SECRET=SECRET, ERASURE_WEBHOOK_ATTEMPTS="3",
                           ERASURE_WEBHOOK_HTTP_HOSTS=json.dumps(["127.0.0.1"]),
                           ERASURE_OUTPUT_DIR=str(tmp_path / "out")) as stack:
            yield stack, receiver
    finally:
        receiver.close()


def gdpr_requests(stack) -> list[dict]:
    with stack.platform_api() as api:
        return api.get("/api/v2/gdpr/requests", params={"pageSize": 500}).json()["entities"]


def redis_dump(stack) -> dict[str, str]:
    """Every key of the test's prefix (records, effects, audit, certificates, queues) with its value as text."""
    r = stack.runtime.redis
    prefix = stack.env["ERASURE_KEY_PREFIX"]
    readers = {"string": r.get, "hash": r.hgetall, "list": lambda k: r.lrange(k, 0, -1), "set": r.smembers,
               "zset": lambda k: r.zrange(k, 0, -1), "stream": lambda k: r.xrange(k)}
    out: dict[str, str] = {}
    for pattern in stack.runtime.keys.all_patterns:
        for key in r.scan_iter(pattern, count=1000):
            kind = r.type(key)
            out[key] = json.dumps(readers[kind](key), default=str) if kind in readers else ""
    assert any(prefix in k for k in out)
    return out


def files_text(root) -> str:
    """Every file a run wrote under ``root`` (logs, output), the test's own input files left out."""
    return "".join(p.read_text(errors="replace") for p in root.rglob("*")
                   if p.is_file() and not p.name.startswith("submit-"))


def export_values(content: bytes) -> set[str]:
    """Strings of the export's documents that are data, not platform ids: what must not be kept anywhere."""
    values: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str) and len(node) >= 6 and not UUID.match(node) and not node.isdigit() \
                and not re.match(r"^\d{4}-\d\d-\d\dT", node) and node.lower() not in COMMON_WORDS:
            values.add(node)

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            walk(json.loads(archive.read(name)))
    return values


#: Field values any record of this system holds as a matter of course (kinds, states, media types).
COMMON_WORDS = {"inbound", "outbound", "customer", "agent", "message", "webmessaging", "completed", "external",
                "contact", "connected", "disconnected", "terminated", "endpoint", "client", "active", "deleted",
                "voice", "email", "callback", "acd", "ivr", "webchat", "cookie", "person", "organization"}


def test_an_access_request_hands_over_the_link_and_keeps_nothing_of_the_export(access_stack):
    stack, receiver = access_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    before = sim_find(stack, subject["emails"] + subject["phones"])
    assert before
    [request_id] = submit(stack, [{"ticket": "ACC-1", "emails": subject["emails"][:1], "kind": "access",
                                   "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=90)
    assert states[request_id] is RequestState.COMPLETED
    record = stack.runtime.store.get(request_id)
    assert record.kind is RequestKind.ACCESS and record.export is not None

    # Exactly one GDPR request on the platform: the export, under our name; nothing deleted.
    listed = gdpr_requests(stack)
    assert [(g["requestType"], g.get("name")) for g in listed] == [("GDPR_EXPORT", f"erasure-{request_id}")]
    assert record.gdpr_request_ids == [listed[0]["id"]]
    assert "name" not in listed[0]["subject"]  # never exported by name (namesakes)
    assert sim_find(stack, subject["emails"] + subject["phones"]) == before  # nothing erased

    # The API hands the link to a key with requests:read, with its expiry; the link downloads the export.
    _, headers = create_key(stack, "reader", "requests:read")
    with running_api(stack.env, stack.tmp / "logs") as api_url:
        view = httpx.get(f"{api_url}/requests/ACC-1", headers=headers, timeout=10).json()
        assert httpx.get(f"{api_url}/requests/ACC-1", timeout=10).status_code == 401
    assert view["kind"] == "access" and view["state"] == "completed"
    export = view["export"]
    [url] = export["results_urls"]
    assert export["expired"] is False and export["gdpr_request_id"] == record.gdpr_request_ids[0]
    query = parse_qs(urlsplit(url).query)
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert (datetime.fromisoformat(export["expires_at"]) - signed).total_seconds() == int(query["X-Amz-Expires"][0])
    download = httpx.get(url, timeout=10)
    assert download.status_code == 200
    values = export_values(download.content)
    assert subject["emails"][0] in values and len(values) > 10

    # The signed final event carries the link and its expiry; the certificate says what and when, not the link.
    wait_until(lambda: receiver.accepted, timeout_s=60, message="the final event")
    [event] = receiver.accepted
    assert receiver.refused == [] and event["body"]["kind"] == "access"  # verified with standardwebhooks
    assert event["body"]["export"]["results_urls"] == [url]
    assert event["body"]["export"]["expires_at"] == export["expires_at"]
    certificate = wait_certificate(stack, request_id)
    assert certificate["kind"] == "access" and certificate["erased"] == {}
    assert certificate["export"]["gdpr_request_id"] == record.gdpr_request_ids[0]
    assert certificate["export"]["link_expiry_source"] == "link"
    assert certificate["export"]["link_expires_at"] == export["expires_at"]
    status = stack.cli("status", "ACC-1")
    (stack.tmp / "out").mkdir(exist_ok=True)
    cert_file = stack.cli("certificate", "ACC-1", "--html", str(stack.tmp / "out" / "ACC-1.html"))
    assert cert_file.returncode == 0, cert_file.stderr
    page = (stack.tmp / "out" / "ACC-1.html").read_text()
    assert '<h1 id="heading">Access certificate</h1>' in page and "GDPR Article 15" in page
    assert f'id="signature-status">valid, signed by {certificate["key_id"]}' in page

    # The scan: the link's secret and the export's content are nowhere but in the one expiring key.
    secret = query["X-Amz-Signature"][0]
    links_key = stack.runtime.keys.export_links(request_id)
    dump = redis_dump(stack)
    assert secret in dump.pop(links_key)
    ttl_ms = stack.runtime.redis.pttl(links_key)
    assert 0 < ttl_ms <= (datetime.fromisoformat(export["expires_at"]) - datetime.now(UTC)).total_seconds() * 1000 + 1000
    haystacks = {"redis": json.dumps(dump), "files": files_text(stack.tmp),
                 "cli": status.stdout + status.stderr + cert_file.stdout + cert_file.stderr}
    for where, text in haystacks.items():
        assert secret not in text and url not in text, where
        found = sorted(v for v in values if v in text)
        assert found == [], (where, found[:20])


@pytest.fixture(params=[True, False], ids=["name-echoed", "name-dropped"])
def no_deletion_stack(request, tmp_path, redis_available):
    """Discovery and redaction only, so the test decides when (and how often) the deletion pool runs; on an
    organisation that echoes our request names, and on one that drops them (found by type and subject)."""
    config = SimConfig(subjects=2, seed=5, gdpr_step_s=0.2, rate_limit=6000, gdpr_echo_name=request.param)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction")) as stack:
        yield stack


def exports_on_platform(stack) -> list[dict]:
    return [g for g in gdpr_requests(stack) if g["requestType"] == "GDPR_EXPORT"]


def test_one_gdpr_export_when_delivered_twice_and_when_redis_lost_the_intent(no_deletion_stack):
    stack = no_deletion_stack
    r, keys, store = stack.runtime.redis, stack.runtime.keys, stack.runtime.store
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    [request_id] = submit(stack, [{"ticket": "ACC-2", "emails": subject["emails"][:1], "kind": "access",
                                   "approved_by": "dpo"}])
    wait_until(lambda: store.get(request_id).state is RequestState.DELETING, timeout_s=60,
               message="redaction to hand the access request on")
    before_call = r.get(keys.request(request_id))  # the record as Redis had it before the export was made

    # Delivered twice (a redelivery, a resume): two messages, taken by two worker threads at once.
    producer = create_app(stack.runtime.settings)
    producer.send_task(DELETE_TASK, args=[[request_id]])
    stack.workers.start("deletion", stack.env, stack.tmp / "logs", concurrency=2)
    wait_until(lambda: store.get(request_id).state is RequestState.POLLING, timeout_s=60, message="the export made")
    [made] = exports_on_platform(stack)
    assert store.get(request_id).gdpr_request_ids == [made["id"]]

    # Redis then loses its last writes (the intent, its result and the move to POLLING: a suffix), and the
    # task comes again: the export is found on the platform by its name, not made a second time.
    r.delete(keys.effect(request_id, "gdpr_export"))
    for key in r.scan_iter(f"{{{stack.env['ERASURE_KEY_PREFIX']}}}:gdprindex:*"):
        r.delete(key)  # an index read before the call (here: none yet), as the docstring of gdpr_index allows
    r.set(keys.request(request_id), before_call)
    assert store.get(request_id).state is RequestState.DELETING and store.get(request_id).gdpr_request_ids == []
    producer.send_task(DELETE_TASK, args=[[request_id]])
    wait_until(lambda: store.get(request_id).state is RequestState.POLLING, timeout_s=60,
               message="the export found again")
    assert [g["id"] for g in exports_on_platform(stack)] == [made["id"]]
    assert store.get(request_id).gdpr_request_ids == [made["id"]]
    assert [e for e in stack.runtime.audit.entries() if e["event"] == "deletion.gdpr_export_reconciled"]

    stack.workers.start("polling", stack.env, stack.tmp / "logs", concurrency=2)
    assert wait_final(stack, [request_id])[request_id] is RequestState.COMPLETED
    assert [g["requestType"] for g in gdpr_requests(stack)] == ["GDPR_EXPORT"]


@pytest.fixture()
def idle_stack(tmp_path, redis_available):
    with running_stack(tmp_path, redis_available, SimConfig(subjects=1), pools=()) as stack:
        yield stack


@pytest.mark.parametrize(("extra", "field", "args"), [
    ({"erase_by_name": True, "names": ["Jane Doe"]}, "erase_by_name: not for an access request",
     ["--name", "Jane Doe", "--erase-by-name"]),
    ({"review_export": True}, "review_export: an access request is itself an export", ["--review-export"]),
])
def test_access_with_erasure_options_refused_by_field_and_nothing_enqueued(idle_stack, extra, field, args):
    path = idle_stack.tmp / "bad-access.jsonl"
    path.write_text(json.dumps({"ticket": "ACC-BAD", "emails": ["jane@example.org"], "kind": "access", **extra}) + "\n")
    result = idle_stack.cli("submit", "--file", str(path))
    assert result.returncode != 0
    assert field in result.stderr + result.stdout
    assert "jane" not in (result.stderr + result.stdout).lower()
    assert queued(idle_stack) == 0 and idle_stack.runtime.store.ids() == []
    # The single-request door says the same.
    single = idle_stack.cli("submit", "--ticket", "ACC-BAD", "--email", "jane@example.org", "--kind", "access", *args)
    assert single.returncode == 2 and field in single.stderr
    assert queued(idle_stack) == 0 and idle_stack.runtime.store.ids() == []
