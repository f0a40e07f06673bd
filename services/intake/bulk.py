"""The intake's file door: many requests from a CSV (header row) or JSONL file, one per line.

Each line is submitted, already in, or refused with its reason. Running the same file again (after
an interrupted run) submits nothing twice: a line whose ticket is already in for the same subject
counts as already submitted, and is enqueued again only while it still waits for discovery (the
earlier run died between storing it and enqueuing it); the same ticket for another subject is
refused. Accepted requests go to discovery in batches, in the bulk lane (``shared.lanes``), and every
stored request is enqueued even when a later line stops the run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from services.intake.submit import DuplicateTicket, IntakeError, enqueue_discovery, submit
from shared.models import Lane, RequestState
from shared.runtime import Runtime


@dataclass(frozen=True)
class FileLine:
    """One request of the file: its line number, and its fields or why they could not be read."""

    number: int
    payload: dict[str, Any] | None
    problem: str | None = None


class Outcome(StrEnum):
    SUBMITTED = "submitted"
    ALREADY_SUBMITTED = "already submitted"
    REFUSED = "refused"


@dataclass(frozen=True)
class LineResult:
    number: int
    outcome: Outcome
    request_id: str | None = None
    #: Why a line was refused: field names and the ticket, never a submitted value.
    reason: str | None = None
    #: Already in and still waiting for discovery: sent to discovery again.
    requeued: bool = False
    #: The lane its request is sent to discovery in: bulk for a line stored now, the stored record's own
    #: for one already in (an interactive request named again in a file stays interactive).
    lane: Lane = Lane.BULK


@dataclass
class BulkSummary:
    accepted: int = 0
    refused: int = 0
    already_submitted: int = 0
    requeued: int = 0

    def count(self, result: LineResult) -> None:
        if result.outcome is Outcome.SUBMITTED:
            self.accepted += 1
        elif result.outcome is Outcome.REFUSED:
            self.refused += 1
        else:
            self.already_submitted += 1
            self.requeued += int(result.requeued)

    def text(self) -> str:
        """``accepted 3, refused 1`` (and ``, already submitted 2`` when a line was in already)."""
        already = f", already submitted {self.already_submitted}" if self.already_submitted else ""
        return f"accepted {self.accepted}, refused {self.refused}{already}"


def read_lines(path: Path) -> list[FileLine]:
    """The requests of a ``.csv`` file (header row; empty cells left out) or a JSONL file (blank lines skipped)."""
    lines: list[FileLine] = []
    if path.suffix.lower() == ".csv":
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                lines.append(FileLine(number, {k: v for k, v in row.items() if k and v not in (None, "")}))
        return lines
    with path.open() as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                payload = json.loads(text)
            except json.JSONDecodeError:
                lines.append(FileLine(number, None, "not valid JSON"))
                continue
            if not isinstance(payload, dict):
                lines.append(FileLine(number, None, "each line must be a JSON object"))
                continue
            lines.append(FileLine(number, payload))
    return lines


def submit_line(runtime: Runtime, line: FileLine) -> LineResult:
    """Store one line's request without enqueuing it; a ticket already in is classified, not stored again."""
    try:
        if line.payload is None:
            raise IntakeError([line.problem or "unreadable"])
        record = submit(runtime, line.payload, enqueue=False, lane=Lane.BULK)
    except IntakeError as exc:
        return LineResult(line.number, Outcome.REFUSED, reason="; ".join(exc.errors))
    except DuplicateTicket as exc:
        if not exc.same_subject:
            return LineResult(line.number, Outcome.REFUSED, reason=f"{exc} for another subject or another kind of request")
        stored = runtime.store.get(exc.request_id)
        return LineResult(line.number, Outcome.ALREADY_SUBMITTED, exc.request_id,
                          requeued=stored.state is RequestState.RECEIVED, lane=stored.lane)
    return LineResult(line.number, Outcome.SUBMITTED, record.request_id)


def submit_lines(runtime: Runtime, lines: Iterable[FileLine],
                 on_line: Callable[[LineResult], None] | None = None) -> BulkSummary:
    """Submit every line, telling ``on_line`` each result as it comes; discovery gets the accepted
    and requeued requests in batches of ``batch_size``, each in its request's lane."""
    summary = BulkSummary()
    batches: dict[Lane, list[str]] = {}
    try:
        for line in lines:
            result = submit_line(runtime, line)
            summary.count(result)
            if result.request_id and (result.outcome is Outcome.SUBMITTED or result.requeued):
                batches.setdefault(result.lane, []).append(result.request_id)
            if on_line is not None:
                on_line(result)
            if len(batches.get(result.lane, ())) >= runtime.settings.batch_size:
                enqueue_discovery(runtime, batches.pop(result.lane), result.lane)
    finally:
        for lane, batch in batches.items():  # stored requests are always enqueued, even when a later line stops the run
            enqueue_discovery(runtime, batch, lane)
    return summary
