"""Ending an access request: its GDPR_EXPORTs completed, the download links handed over, nothing kept.

When every GDPR_EXPORT of an access request is COMPLETED, the request goes to ``verify`` as an erasure
does (so a killed delivery is finished by the same redelivery) and, in VERIFYING, each export is read
(GET) for its ``resultsUrl``/``resultsUrls`` (SDK ``GDPRRequest``, VERIFIED). The links go to ``shared.export_links`` (a Redis key
that expires with them) and nowhere else; the record keeps what was exported and when (``ExportResult``).
Nothing is downloaded: this system never holds a copy of the exported data. The request then ends
COMPLETED and is certified like any other, which sends the signed final event carrying the links
(``services.polling.tasks.deliver``). An export completed without a link ends the request PARTIAL.
"""

from __future__ import annotations

from shared.export_links import keep_links, link_expiry
from shared.models import ErasureRecord, ExportResult, RequestState, utcnow
from shared.pipeline import transition
from shared.runtime import Runtime


def finish_access(runtime: Runtime, record: ErasureRecord) -> bool:
    """Read the completed exports' links, keep them until they expire, end the request; True if it ended."""
    client = runtime.genesys("polling")
    now = utcnow()
    urls: list[str] = []
    for gdpr_id in record.gdpr_request_ids:
        answer = client.get_gdpr_request(gdpr_id)
        urls += answer.results_urls or ([answer.results_url] if answer.results_url else [])
    urls = list(dict.fromkeys(urls))
    if not urls:
        return transition(runtime, record.request_id, RequestState.PARTIAL, "polling.export_without_link",
                          details={"gdpr_request_ids": record.gdpr_request_ids}, completed_at=now,
                          expect=RequestState.VERIFYING,
                          reason="the platform completed the GDPR_EXPORT without a download link; open a Genesys "
                                 "support case with its id") is not None
    expires_at, source = link_expiry(urls, now, runtime.settings.export_link_ttl_s)
    keep_links(runtime.redis, runtime.keys, record.request_id, urls, expires_at)
    export = ExportResult(gdpr_request_id=record.gdpr_request_ids[0], completed_at=now, files=len(urls),
                          link_expires_at=expires_at, link_expiry_source=source)
    return transition(runtime, record.request_id, RequestState.COMPLETED, "polling.export_completed",
                      details={"gdpr_request_ids": record.gdpr_request_ids, "files": len(urls),
                               "link_expires_at": expires_at.isoformat(), "link_expiry": source},
                      export=export, completed_at=now, expect=RequestState.VERIFYING) is not None
