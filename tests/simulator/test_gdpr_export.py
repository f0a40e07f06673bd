"""A completed GDPR_EXPORT is a real download: a zip of JSON documents of the subject, behind a link that
needs no bearer token (pre-signed), is refused when tampered with, and answers 410 once it expired."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.sim_api import subject_body, wait_for


def _completed_export(api: httpx.Client, subject: dict[str, Any]) -> dict[str, Any]:
    rid = api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": subject_body(subject)}).json()["id"]
    return wait_for(lambda: (r := api.get(f"/api/v2/gdpr/requests/{rid}").json())["status"] == "COMPLETED" and r)


def test_export_link_serves_a_zip_of_the_subjects_json_documents(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    done = _completed_export(api, subject)
    got = httpx.get(done["resultsUrl"], timeout=10)  # no Authorization header: a pre-signed link
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        docs = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert set(docs) == {"conversations.json", "messages.json", "externalContacts.json", "subjects.json"}
    assert {c["conversationId"] for c in docs["conversations.json"]} >= set(subject["conversation_ids"][:1])
    assert subject["external_contact_id"] in {c["id"] for c in docs["externalContacts.json"]}
    assert subject["emails"][0] in json.dumps(docs)
    other = subjects[1]
    assert other["emails"][0] not in json.dumps(docs)  # only this subject's data
    query = parse_qs(urlsplit(done["resultsUrl"]).query)
    assert int(query["X-Amz-Expires"][0]) == 24 * 3600 and query["X-Amz-Date"][0].endswith("Z")


def test_export_link_tampered_is_404_and_expired_is_410(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    raw.post("/_sim/config", json={"gdpr_export_ttl_s": 1.5}).raise_for_status()
    try:
        done = _completed_export(api, subjects[2])
        url = done["resultsUrl"]
        assert int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) == 1
        assert httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=x"), timeout=10).status_code == 404
        wait_for(lambda: httpx.get(url, timeout=10).status_code == 410, timeout=30)
    finally:
        raw.post("/_sim/config", json={"gdpr_export_ttl_s": 24 * 3600.0}).raise_for_status()
