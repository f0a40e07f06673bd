"""The names of the pools' Celery tasks: the contract between pools, which send work to each other by
name and never by importing each other (import-linter checks that in `make test`)."""

from __future__ import annotations

from typing import Final

DISCOVER_TASK: Final = "erasure.discovery.discover"
REDACT_TASK: Final = "erasure.redaction.scan"
DELETE_TASK: Final = "erasure.deletion.erase"
POLL_TASK: Final = "erasure.polling.poll"
#: Requests the deletion pool moved to POLLING, handed to the polling pool (which follows them).
POLL_START_TASK: Final = "erasure.polling.start"
SWEEP_TASK: Final = "erasure.polling.sweep"
FOLLOW_TASK: Final = "erasure.polling.recording_jobs"
VERIFY_TASK: Final = "erasure.polling.verify"
NOTIFY_TASK: Final = "erasure.polling.notify"
#: The final event to a request's own callback URL (its allow-list checked again at the send).
NOTIFY_CALLBACK_TASK: Final = "erasure.polling.notify_callback"
#: Review before delete: the deletion pool submits the subject's GDPR_EXPORT (nothing is deleted there)...
REVIEW_EXPORT_TASK: Final = "erasure.deletion.review_export"
#: ...and the polling pool follows it to its end, summarises the archive and takes the request to the gate.
REVIEW_FOLLOW_TASK: Final = "erasure.polling.review"
