"""An access request's download links: their expiry read from a pre-signed link (else assumed), held in
one Redis key that expires with them, and never in the certificate (issue 17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shared.certificate import build_certificate
from shared.certificate_html import render_certificate_html
from shared.export_links import ASSUMED, LINK, keep_links, link_expiry, read_links
from shared.models import ErasureRecord, ExportResult, RequestKind, RequestState, Subject
from shared.runtime import Runtime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SIGNED = "https://exports.example/x/export-1.zip?X-Amz-Date=20260301T115500Z&X-Amz-Expires=3600&X-Amz-Signature=s3cr3t"


def test_expiry_is_read_from_a_presigned_link_else_assumed():
    assert link_expiry([SIGNED], NOW, 86400) == (datetime(2026, 3, 1, 12, 55, tzinfo=UTC), LINK)
    shorter = SIGNED.replace("X-Amz-Expires=3600", "X-Amz-Expires=60")
    assert link_expiry([SIGNED, shorter], NOW, 86400)[0] == datetime(2026, 3, 1, 11, 56, tzinfo=UTC)  # the earliest
    assert link_expiry(["https://exports.example/plain.zip"], NOW, 7200) == (NOW + timedelta(hours=2), ASSUMED)
    assert link_expiry([SIGNED, "https://exports.example/plain.zip"], NOW, 7200)[1] == ASSUMED
    assert link_expiry([SIGNED.replace("20260301T115500Z", "yesterday")], NOW, 60)[1] == ASSUMED


def test_links_are_held_until_they_expire_and_an_expired_one_is_not_kept(runtime: Runtime):
    soon = datetime.now(UTC) + timedelta(minutes=5)
    keep_links(runtime.redis, runtime.keys, "r-1", [SIGNED], soon)
    assert read_links(runtime.redis, runtime.keys, "r-1") == [SIGNED]
    assert 0 < runtime.redis.pttl(runtime.keys.export_links("r-1")) <= 5 * 60 * 1000
    keep_links(runtime.redis, runtime.keys, "r-1", [SIGNED], datetime.now(UTC) - timedelta(seconds=1))
    assert read_links(runtime.redis, runtime.keys, "r-1") is None
    assert read_links(runtime.redis, runtime.keys, "never") is None


def test_an_access_certificate_says_what_was_exported_and_when_never_the_link():
    export = ExportResult(gdpr_request_id="g-9", completed_at=NOW, files=1,
                          link_expires_at=NOW + timedelta(hours=24), link_expiry_source=LINK)
    record = ErasureRecord(request_id="req-a", ticket="ACC-7", subject=Subject(emails=["jane@example.org"]),
                           verified_at=NOW - timedelta(days=1), kind=RequestKind.ACCESS, state=RequestState.COMPLETED,
                           gdpr_request_ids=["g-9"], conversation_ids=["c-1", "c-2"], export=export, completed_at=NOW)
    cert = build_certificate(record, "digest", None)
    assert cert["kind"] == "access" and cert["erased"] == {}
    assert cert["export"] == {"gdpr_request_id": "g-9", "completed_at": NOW.isoformat().replace("+00:00", "Z"),
                              "files": 1, "link_expires_at": (NOW + timedelta(hours=24)).isoformat().replace("+00:00", "Z"),
                              "link_expiry_source": "link"}
    html = render_certificate_html(cert)
    assert 'id="export"' in html and "g-9" in html and "Download link valid until" in html
    assert "s3cr3t" not in json.dumps(cert) and "http" not in json.dumps(cert["export"])
    erase = build_certificate(record.model_copy(update={"kind": RequestKind.ERASE, "export": None}), "digest", None)
    assert "export" not in erase and erase["erased"]["conversations"] == 2
