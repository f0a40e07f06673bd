"""The deletion side of the CLI: ``erasure purge`` and ``erasure release-held``.

Registered on the main ``erasure`` app in ``services.cli``. Output names conversations by platform id
and holds by id and basis; never personal data. Those come from the platform and the hold register, so they
are printed through ``services.terminal_text`` (as text, never as markup or control sequences).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from services.terminal_text import markup, visible

err = Console(stderr=True, emoji=False)


def _as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        err.print("[red]refused[/red] as-of: not an ISO date-time")
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def purge(
    older_than: Annotated[int, typer.Option("--older-than", min=1, help="retention period in days")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list what would go")] = False,
    as_of: Annotated[str | None, typer.Option(help="ISO time the period counts back from (default now)")] = None,
    ticket: Annotated[str | None, typer.Option(help="reference of this purge (default purge-<days>d-<time>)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
) -> None:
    """Delete the recordings of conversations that ended more than --older-than days ago, honouring
    legal holds; runs under the standing policy ERASURE_RETENTION_POLICY. --dry-run lists the same."""
    from services.deletion.purge import PurgeRefused, plan_purge, start_purge
    from shared.runtime import get_runtime
    from shared.store import DuplicateTicket

    runtime = get_runtime()
    try:
        plan = plan_purge(runtime, runtime.genesys("deletion"), older_than, _as_of(as_of))
        record = None if dry_run else start_purge(runtime, plan, ticket)
    except (PurgeRefused, DuplicateTicket) as exc:
        err.print(f"[red]refused[/red] {markup(exc)}")
        raise typer.Exit(2) from None
    if as_json:
        body = plan.to_json()
        body["dry_run"] = dry_run
        if record is not None:
            body["ticket"], body["request_id"] = record.ticket, record.request_id
        print(json.dumps(body, indent=2))
        return
    verb = "would delete" if dry_run else "deleting"
    print(f"{verb} the recordings of {len(plan.conversations)} conversation(s) that ended before "
              f"{plan.cutoff.isoformat()}; {len(plan.withheld)} withheld")
    for conversation_id in plan.conversations:
        print(visible(conversation_id))
    for entry in plan.withheld:  # the hold's reason and basis: typed in the web console
        print(visible(f"withheld {entry.id} hold {entry.hold}: {entry.reason} ({entry.basis})"))
    if record is not None:
        print(visible(f"purge {record.ticket} is request {record.request_id}; follow it with `erasure status {record.ticket}`"))


def release_held(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list what would be erased")] = False,
) -> None:
    """Erase what legal holds kept, where the hold has been removed or has expired (run it on a schedule)."""
    from services.deletion.release import release_held as release
    from shared.runtime import get_runtime

    runtime = get_runtime()
    released = release(runtime, runtime.genesys("deletion"), dry_run=dry_run)
    verb = "would release" if dry_run else "released"
    for item in released:
        what = "the whole erasure" if item.kind == "subject" else f"{len(item.conversations)} conversation(s)"
        print(visible(f"{verb} {item.ticket}: {what}"))
    print(f"{verb} {len(released)} request(s)")
