"""``erasure``: the command line of genesys-erasure.

Commands that talk to Redis read the same ``ERASURE_*`` settings as the workers. Nothing here
prints personal data: requests are shown by ticket, state and counts. Every value printed that the code did
not write itself (a ticket, a reason, a platform id, an error's message) goes through
``services.terminal_text``: shown as text, never as rich markup or a control sequence.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from services.terminal_text import cell, markup, visible

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="GDPR Art. 17 erasure for Genesys Cloud: submit, follow and prove erasures.")


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"genesys-erasure {version('genesys-erasure')}")
        except PackageNotFoundError:  # a checkout on PYTHONPATH, not installed: say so rather than guess
            print("genesys-erasure (not installed: no version metadata)")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="print the installed version and exit")] = False,
) -> None:
    """GDPR Art. 17 erasure for Genesys Cloud: submit, follow and prove erasures."""
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
app.add_typer(audit_app, name="audit")
# emoji=False: a ``:name:`` in a ticket or a reason is shown as typed, not as an emoji.
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)


def _require_simulator() -> None:
    """The simulator (``genesys_sim``) is test and demo support, a distribution of its own that the product's
    wheel and image do not carry: where it is missing, say how to get it instead of a traceback."""
    import importlib.util

    if importlib.util.find_spec("genesys_sim") is None:
        typer.echo("erasure: the Genesys simulator is not installed (from a checkout: pip install -e ./sim)", err=True)
        raise typer.Exit(2)


@app.command()
def demo(
    subjects: Annotated[int, typer.Option(min=1, max=500, help="synthetic subjects to erase")] = 30,
    output_dir: Annotated[Path, typer.Option(help="where certificates, audit and logs go")] = Path(
        "erasure-output"),
    timeout: Annotated[float, typer.Option(help="seconds to wait for every subject")] = 300.0,
    redis_url: Annotated[str | None, typer.Option(help="use this Redis instead of the embedded one")] = None,
    key_prefix: Annotated[str, typer.Option(help="key prefix in Redis (isolates runs)")] = "demo",
    kind: Annotated[str, typer.Option(help="erase (default), anonymise or access: what every demo request asks")] = "erase",
) -> None:
    """Run the whole job on an embedded Redis and simulator: no Redis, no credentials needed."""
    _require_simulator()
    from services.demo import run_demo

    result = run_demo(subjects=subjects, output_dir=output_dir, timeout_s=timeout, console=err,
                      redis_url=redis_url, key_prefix=key_prefix, kind=kind)
    err.print(f"certificates and audit log in {output_dir}/")
    print(result.how_to_verify())
    print(result.summary())
    raise typer.Exit(result.exit_code)


@app.command()
def sim(
    port: Annotated[int, typer.Option(help="TCP port to listen on")] = 8700,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    subjects: Annotated[int, typer.Option(help="synthetic subjects to seed")] = 30,
    seed: Annotated[int, typer.Option(help="random seed of the synthetic data")] = 1,
    rate_limit: Annotated[int, typer.Option(help="requests per token per window")] = 300,
    rate_window: Annotated[float, typer.Option(help="rate window in seconds")] = 60.0,
    gdpr_step: Annotated[float, typer.Option(help="seconds a GDPR request spends in each state")] = 1.0,
    profile: Annotated[str, typer.Option(
        help="realistic: the platform's awkward behaviours on (data lag, sensitive recordings, strict limits); "
             "plain: all off")] = "realistic",
    login_port: Annotated[int | None, typer.Option(
        help="serve the token endpoint on this port alone, as the login host (set ERASURE_GENESYS_LOGIN_URL "
             "to it); default: both on --port")] = None,
) -> None:
    """Serve the Genesys Cloud simulator over HTTP."""
    _require_simulator()
    from genesys_sim.profiles import PROFILES, build
    from genesys_sim.server import serve

    if profile not in PROFILES:
        raise typer.BadParameter(f"choose one of: {', '.join(PROFILES)}", param_hint="--profile")
    config = build(profile, subjects=subjects, seed=seed, rate_limit=rate_limit, rate_window_s=rate_window,
                       gdpr_step_s=gdpr_step)
    login = f", token at http://{host}:{login_port}" if login_port is not None else ""
    err.print(f"Genesys simulator ({profile}) on http://{host}:{port}{login} (client id {config.client_id})")
    serve(config, host, port, login_port)


@app.command()
def submit(
    ticket: Annotated[str | None, typer.Option(
        help="your ticket reference (idempotency key): letters, digits and . _ : - (1-64)")] = None,
    email: Annotated[list[str] | None, typer.Option(help="email address (repeatable)")] = None,
    phone: Annotated[list[str] | None, typer.Option(help="phone number, E.164 (repeatable)")] = None,
    name: Annotated[list[str] | None, typer.Option(help="name (repeatable)")] = None,
    contact_id: Annotated[list[str] | None, typer.Option(help="external contact id, a UUID (repeatable)")] = None,
    user_id: Annotated[str | None, typer.Option(help="user id of a former agent (a UUID)")] = None,
    verified_at: Annotated[str | None, typer.Option(help="ISO date the request was verified")] = None,
    approved_by: Annotated[str | None, typer.Option(
        help="who approved the erasure: a name as an API key's, letters, digits and . _ : - (1-64)")] = None,
    erase_by_name: Annotated[bool, typer.Option(
        "--erase-by-name", help="send the name with the GDPR_DELETE too (never alone; it can reach namesakes)")] = False,
    file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                              help="bulk: a .csv (header row) or .jsonl file")] = None,
    kind: Annotated[str | None, typer.Option(help="erase (default), anonymise or access")] = None,
    review_export: Annotated[bool, typer.Option(
        "--review-export", help="review before delete: read the platform's export of the subject first and show "
                                "it at the approval step")] = False,
    lane: Annotated[str | None, typer.Option(
        help="queue lane of a single request: interactive (default, served first) or bulk; a --file is always bulk")] = None,
) -> None:
    """Submit one erasure request, or many from a file; bad ones are refused by field name."""
    from services.intake.submit import DuplicateTicket, IntakeError
    from services.intake.submit import submit as submit_request
    from shared.runtime import get_runtime

    if file is not None and lane is not None:
        err.print("[red]refused[/red] --lane goes with a single request; a --file is always bulk")
        raise typer.Exit(2)
    runtime = get_runtime()
    if file is None:
        payload: dict[str, Any] = {"ticket": ticket or "", "emails": email or [], "phones": phone or [],
                                   "names": name or [], "external_contact_ids": contact_id or []}
        if erase_by_name:
            payload["erase_by_name"] = True
        if review_export:
            payload["review_export"] = True
        for key, value in (("user_id", user_id), ("verified_at", verified_at), ("approved_by", approved_by),
                           ("kind", kind), ("lane", lane)):
            if value:
                payload[key] = value
        try:
            record = submit_request(runtime, payload)
        except IntakeError as exc:
            for line in exc.errors:
                err.print(f"[red]refused[/red] {markup(line)}")
            raise typer.Exit(2) from None
        except DuplicateTicket as exc:
            err.print(f"[yellow]refused[/yellow] {markup(exc)}")
            raise typer.Exit(3) from None
        print(f"accepted ticket {visible(record.ticket)} as request {record.request_id}")
        return

    from rich.progress import track

    from services.intake.bulk import LineResult, Outcome, read_lines, submit_lines

    def report(result: LineResult) -> None:
        if result.outcome is Outcome.REFUSED:
            err.print(f"line {result.number}: refused: {markup(result.reason)}")

    lines = read_lines(file)
    summary = submit_lines(runtime, track(lines, description="submitting", console=err), on_line=report)
    print(summary.text())
    if summary.refused:
        raise typer.Exit(2)


@app.command()
def approve(
    ticket: Annotated[str, typer.Argument(help="the request's ticket")],
    by: Annotated[str | None, typer.Option(
        "--by", help="who approves (recorded in the audit log and certificate): a name as an API key's, letters, "
                    "digits and . _ : - (1-64); default: your OS user")] = None,
    scope: Annotated[str | None, typer.Option(
        "--scope", help="the scope digest you checked (GET /requests/TICKET); refused if the scope changed")] = None,
    show: Annotated[bool, typer.Option(
        "--show", help="print what the approval would cover (and the review's export summary) without approving")] = False,
) -> None:
    """Break-glass: record the approval that lets deletion go ahead for one request, as the operator.

    Upstream systems approve over HTTP with a second API key (four eyes); this command is for the
    operator with access to Redis, and records who ran it. Like any approval by a person it covers the
    request's scope as it is now: if discovery or redaction widens it later, the request waits again."""
    import getpass

    from services.intake.approve import ApprovalError
    from services.intake.approve import approve as approve_request
    from services.review_text import review_lines, scope_line
    from shared.approval_scope import current_scope
    from shared.runtime import get_runtime

    runtime = get_runtime()
    if show:
        found = runtime.store.find_by_ticket(ticket)
        if found is None:
            err.print(f"[red]refused[/red] ticket: no request with ticket {markup(repr(ticket))}")
            raise typer.Exit(2)
        print(f"ticket {visible(found.ticket)}: {found.kind.value}, state {found.state.value}")
        if not found.scrubbed:
            print("scope now: " + scope_line(current_scope(runtime.settings.require_hmac_key(), found)))
        for line in review_lines(found.review):  # platform ids from the export among them
            print(visible(line))
        return
    if by is None:
        from shared.api_keys import NAME_RULE, is_name

        try:
            by = getpass.getuser()
        except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
            by = ""
        if not is_name(by):
            err.print(f"[red]refused[/red] by: your OS user name cannot be an approver's name ({NAME_RULE}); "
                      "say who approves with --by NAME")
            raise typer.Exit(2)
    try:
        record = approve_request(runtime, ticket, by, via="cli", scope=scope)
    except ApprovalError as exc:
        err.print(f"[red]refused[/red] {markup(exc)}")
        raise typer.Exit(2) from None
    print(f"approved ticket {visible(record.ticket)} by {visible(by)}; state {record.state.value}")
    approved = record.approval.scope if record.approval else None
    if approved is not None:
        print("scope approved: " + scope_line(approved))
    for line in review_lines(record.review):
        print(visible(line))


@app.command()
def resume() -> None:
    """Re-enqueue every unfinished request (after a crash, a lost queue or a Redis restart)."""
    from services.resume import resume as resume_requests
    from shared.runtime import get_runtime

    counts = resume_requests(get_runtime())
    total = sum(counts.values())
    detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to resume"
    print(f"resumed {total} request(s): {detail}")


@app.command()
def watchdog() -> None:
    """Run one watchdog pass now: re-drive requests with no progress for ERASURE_STALL_AFTER_S (the workers
    do this every ERASURE_WATCHDOG_INTERVAL_S by themselves)."""
    from services.operations import watchdog_pass
    from shared.runtime import get_runtime

    report = watchdog_pass(get_runtime())
    detail = ", ".join(f"{n} {state}" for state, n in sorted(report.redriven.items()))
    print(f"re-drove {report.total} request(s){': ' + detail if detail else ''}; "
          f"{report.busy} busy (a task holds them), {report.closed} needing nobody any more")


@app.command()
def redact(
    json_lines: Annotated[bool, typer.Option("--json", help='JSON lines {"text": ...} in, text and entities out')]
    = False,
) -> None:
    """Mask personal data in text from stdin (emails, phones, cards, IBANs, IPs, SSNs)."""
    from shared.pii.cli import redact_stream

    raise typer.Exit(redact_stream(sys.stdin, sys.stdout, json_lines=json_lines))


@app.command()
def status(ticket: Annotated[str | None, typer.Argument(help="one ticket; all requests if omitted")] = None,
           summary: Annotated[bool, typer.Option(
               "--summary", help="requests per state and the deadline view, not a row each (bulk runs)")] = False,
           ) -> None:
    """Where requests stand: overdue first, then by deadline; days left, reason when not complete."""
    from services.operations import status as request_status
    from services.registers import NotFound
    from shared.runtime import get_runtime

    try:
        report = request_status(get_runtime(), ticket)
    except NotFound as exc:
        err.print(markup(exc))
        raise typer.Exit(1) from None
    if summary:
        table = Table("state", "requests")
        for state, count in report.counts():
            table.add_row(state.value, str(count))
    else:
        table = Table("ticket", "state", "deadline", "reason")
        for row in report.rows():
            table.add_row(*(cell(value) for value in row))  # ticket and reason: from outside
    out.print(table)
    if ticket and report.records[0].callback_url:
        from shared.webhooks import target_label

        out.print(f"callback: {markup(target_label(report.records[0].callback_url))}")  # host only: a query may hold a token
    view = report.deadlines()
    out.print(f"{view.open} open, {view.overdue} overdue, {view.at_risk} due within 7 days")


class _ShowByDefault(TyperGroup):
    """``erasure certificate TICKET`` (as before subcommands) means ``erasure certificate show TICKET``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


certificate_app = typer.Typer(cls=_ShowByDefault, no_args_is_help=True,
                              help="Signed certificates: show a request's (TICKET), verify a file (verify FILE).")
app.add_typer(certificate_app, name="certificate")


@certificate_app.command("show")
def certificate_show(
    ticket: Annotated[str, typer.Argument(help="the request's ticket")],
    html: Annotated[Path | None, typer.Option(help="also write the human-readable page to this file")] = None,
    superseded: Annotated[bool, typer.Option(
        "--superseded", help="print the certificates an amendment replaced instead, oldest first, one per line")] = False,
) -> None:
    """Print the signed certificate of a request as JSON, as issued (and write it as HTML with --html)."""
    from services.operations import certificate as stored_certificate
    from services.registers import NotFound
    from shared.runtime import get_runtime

    try:
        found = stored_certificate(get_runtime(), ticket)
    except NotFound as exc:
        err.print(markup(exc))
        raise typer.Exit(1) from None
    if html is not None:
        html.write_text(found.html())
        err.print(f"wrote {markup(html)}")
    if superseded:
        import json

        for text in found.superseded:
            print(json.dumps(json.loads(text), sort_keys=True))
        err.print(f"{len(found.superseded)} superseded certificate(s)")
        return
    print(found.text)  # as signed, byte for byte: JSON written with ensure_ascii, so no control character in it


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[Path, typer.Argument(help="a certificate's JSON, as issued", exists=True, dir_okay=False)],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="the signer's public key (PEM, from erasure keys export-public); default: the "
                             "public half of this deployment's ERASURE_SIGNING_KEY / ERASURE_SIGNING_KEY_FILE")] = None,
) -> None:
    """Check a certificate's signature with a public key alone: no Redis, platform or secret needed.
    Exit 0 when valid; 1 with the reason (tampered, wrong key, unsigned, malformed) otherwise."""
    from shared.certificate_signing import verify
    from shared.config import get_settings
    from shared.signing import key_id, load_public_key

    if public_key is not None:
        try:
            key = load_public_key(public_key.read_bytes())
        except ValueError as exc:
            err.print(f"--public-key {markup(public_key)}: {markup(exc)}", soft_wrap=True)
            raise typer.Exit(2) from None
        source = f"the public key in {markup(public_key)}"
    else:
        key = get_settings().require_signer().public_key  # ConfigError (exit 2) names the variables
        source = "the public half of this deployment's signing key (ERASURE_SIGNING_KEY / _FILE)"
    verdict = verify(file.read_bytes(), key)
    err.print(f"checked with {source}, {key_id(key)}", soft_wrap=True)
    print(visible(f"{file}: {verdict.reason}"))
    if not verdict.valid:
        raise typer.Exit(1)


keys_app = typer.Typer(no_args_is_help=True, help="API keys of the HTTP intake (stored only as hashes), and the "
                                                   "certificate signing key (generate, export-public).")
app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def keys_generate(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the private key here (created with mode 0600, never overwritten); "
                               "default: standard output, for a secret store")] = None,
) -> None:
    """Make a new Ed25519 certificate signing key (private PEM) for ERASURE_SIGNING_KEY or _FILE.
    It is never logged; its key id and public half are printed on stderr."""
    import os

    from shared.signing import Signer, generate_private_pem

    pem = generate_private_pem()
    signer = Signer.from_pem(pem, "the new key")
    if output is None:
        sys.stdout.write(pem)
    else:
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            err.print(f"refused: {markup(output)} exists (a signing key is never overwritten)")
            raise typer.Exit(2) from None
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        err.print(f"wrote {markup(output)} (mode 0600)")
    err.print(f"key id {signer.key_id}; its public key (erasure keys export-public prints it again):")
    sys.stderr.write(signer.public_pem())


@keys_app.command("export-public")
def keys_export_public() -> None:
    """Print the public half of this deployment's signing key (PEM) for whoever verifies certificates;
    its key id goes to stderr."""
    from shared.config import get_settings

    signer = get_settings().require_signer()
    sys.stdout.write(signer.public_pem())
    err.print(f"key id {signer.key_id}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who holds the key, e.g. dsar-tool (unique)")],
    scope: Annotated[list[str], typer.Option(
        "--scope", help="requests:submit, requests:read, requests:approve, metrics:read or admin (repeatable)")],
    from_env: Annotated[str | None, typer.Option(
        "--from-env", help="install the key held in this environment variable (a deployment's bootstrap key) "
                           "instead of making one; nothing is printed, and an installed one is left as it is")] = None,
    person: Annotated[bool, typer.Option(
        "--person", help="the key is one person's own (a DPO, an operator): it signs in to the web console")] = False,
    owner: Annotated[str | None, typer.Option(
        "--owner", help="a service key's person (by their key's name): four eyes keeps them from approving "
                        "what this key submits")] = None,
) -> None:
    """Make an API key and print it once: only its hash is kept, it cannot be shown again."""
    import os

    from shared.api_keys import ApiKeyError, ApiKeyStore
    from shared.runtime import get_runtime

    runtime = get_runtime()
    store = ApiKeyStore(runtime.redis, runtime.keys)
    given = None
    if from_env is not None:
        given = os.environ.get(from_env, "")
        if not given:
            err.print(f"[red]refused[/red] --from-env: {markup(from_env)} is not set")
            raise typer.Exit(2)
        if store.installed(name, given):
            err.print(f"key {markup(name)} already installed")
            return
    try:
        info, token = store.create(name, scope, token=given, person=person, owner=owner)
    except ApiKeyError as exc:
        err.print(f"[red]refused[/red] {markup(exc)}", soft_wrap=True)
        raise typer.Exit(2) from None
    runtime.audit.append("api_key.created", details={"key_id": info.key_id, "name": info.name, "kind": info.kind,
                                                     "owner": info.owner, "scopes": list(info.scopes),
                                                     "installed": given is not None})
    if given is not None:
        err.print(f"key {info.key_id} ({markup(info.name)}: {markup(', '.join(info.scopes))}) installed from "
                  f"{markup(from_env)}")
        return
    err.print(f"key {info.key_id} ({markup(info.name)}: {markup(', '.join(info.scopes))}); store it now, it is not "
              "shown again:")
    print(token)


@keys_app.command("list")
def keys_list() -> None:
    """Every key by id, name and scopes (never a secret); revoked keys stay listed. Live person keys whose
    names differ only in case (made before that was refused) are marked ``person*`` and named by id."""
    from shared.api_keys import ApiKeyStore
    from shared.runtime import get_runtime

    runtime = get_runtime()
    store = ApiKeyStore(runtime.redis, runtime.keys)
    duplicates = store.case_duplicates()
    flagged = {key_id for group in duplicates for key_id in group}
    table = Table("id", "name", "kind", "owner", "scopes", "created", "revoked")
    for key in store.all():
        table.add_row(*(cell(value) for value in (
            key.key_id, key.name, f"{key.kind}*" if key.key_id in flagged else key.kind, key.owner or "",
            ", ".join(key.scopes), key.created_at, key.revoked_at or "")))
    out.print(table)
    for group in duplicates:  # made before a second person key under one name was refused
        err.print(f"[yellow]warning[/yellow] person* keys {markup(', '.join(group))}: live person keys whose names differ "
                  "only in case, so one human may hold them all (four eyes counts them as one person); keep one "
                  "and revoke the others (erasure keys revoke ID)", soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="the key's name or id")]) -> None:
    """Revoke a key: it stops working at once."""
    from shared.api_keys import ApiKeyError, ApiKeyStore
    from shared.runtime import get_runtime

    runtime = get_runtime()
    try:
        info = ApiKeyStore(runtime.redis, runtime.keys).revoke(key)
    except ApiKeyError as exc:
        err.print(f"[red]refused[/red] {markup(exc)}")
        raise typer.Exit(1) from None
    runtime.audit.append("api_key.revoked", details={"key_id": info.key_id, "name": info.name})
    print(f"revoked key {info.key_id} ({visible(info.name)})")


hold_app = typer.Typer(no_args_is_help=True, help="The legal-hold register, checked before every deletion.")
app.add_typer(hold_app, name="hold")

from services.cli_deletion import purge, release_held  # noqa: E402  (deletion-side operator commands)

app.command("purge")(purge)
app.command("release-held")(release_held)


@hold_app.command("add")
def hold_add(
    reason: Annotated[str, typer.Option(help="why the records are held (shown in certificates)")],
    conversation: Annotated[str | None, typer.Option(help="hold one conversation by id")] = None,
    email: Annotated[str | None, typer.Option(help="hold a subject by email")] = None,
    phone: Annotated[str | None, typer.Option(help="hold a subject by phone (E.164)")] = None,
    basis: Annotated[str | None, typer.Option(help="legal basis (default Art. 17(3)(e))")] = None,
    expires: Annotated[str | None, typer.Option(help="ISO date the hold ends (end of day, UTC), or date and time")] = None,
) -> None:
    """Hold a conversation, or a subject by one identifier (stored only as a keyed digest)."""
    from services.registers import Refused, add_hold, parse_expiry
    from shared.runtime import get_runtime

    if len([v for v in (conversation, email, phone) if v]) != 1:
        err.print("[red]refused[/red] give exactly one of --conversation, --email, --phone")
        raise typer.Exit(2)
    try:
        expires_at = parse_expiry(expires) if expires else None
        hold = add_hold(get_runtime(), reason, conversation=conversation, email=email, phone=phone, basis=basis,
                        expires_at=expires_at)
    except Refused as exc:
        err.print(f"[red]refused[/red] {markup(exc)}")
        raise typer.Exit(2) from None
    print(f"hold {hold.id} added ({hold.kind})")


@hold_app.command("remove")
def hold_remove(hold_id: Annotated[str, typer.Argument(help="the hold's id (see hold list)")]) -> None:
    """Lift a hold: the next run erases what it kept."""
    from services.registers import NotFound, remove_hold
    from shared.runtime import get_runtime

    try:
        remove_hold(get_runtime(), hold_id)
    except NotFound as exc:
        err.print(markup(exc))
        raise typer.Exit(1) from None
    print(f"hold {visible(hold_id)} removed")


@hold_app.command("list")
def hold_list() -> None:
    """Every hold, active or expired (subjects appear as digests)."""
    from services.registers import list_holds
    from shared.runtime import get_runtime

    table = Table("id", "kind", "target", "reason", "basis", "expires", "active")
    for hold in list_holds(get_runtime()):
        # reason and basis: typed in the web console (or anything written in Redis)
        table.add_row(*(cell(value) for value in (
            hold.id, hold.kind, hold.target[:40], hold.reason, hold.basis,
            hold.expires_at.isoformat() if hold.expires_at else "", "yes" if hold.active() else "no")))
    out.print(table)


webhooks_app = typer.Typer(no_args_is_help=True, help="Downstream notifications and their dead letters.")
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("list")
def webhooks_list() -> None:
    """Events that could not be delivered: id, request, target name (and its host now), attempts."""
    from services.registers import dead_letters
    from shared.runtime import get_runtime
    from shared.webhooks import target_label

    runtime = get_runtime()
    table = Table("webhook id", "request", "target", "attempts", "last error")
    for entry in dead_letters(runtime):
        name = entry.get("target_name")
        if "malformed" in entry:  # written by no version of this system: refused by replay, to drop
            target = f"({entry['malformed']})"
        elif name is None:  # parked by an older version, with a URL: shown by host, refused by replay
            target = f"{target_label(str(entry.get('target')))} (old entry: a URL)"
        else:
            url = runtime.webhook_target_url(str(entry["request_id"]), str(name))
            target = f"{name} ({target_label(url)})" if url else f"{name} (not configured now)"
        cells = (entry.get("webhook_id") or entry.get("event_id"), entry.get("request_id", ""), target,
                 entry.get("attempts", ""), entry.get("last_error", ""))
        table.add_row(*(cell(value) for value in cells))  # written in Redis: shown as text, never as markup
    out.print(table)


@webhooks_app.command("replay")
def webhooks_replay() -> None:
    """Send every dead-lettered event again, only to a target configured now; one already delivered is never sent twice."""
    from services.registers import replay_webhooks
    from shared.runtime import get_runtime

    replay = replay_webhooks(get_runtime())
    for line in replay.refusals:
        err.print(visible(line), highlight=False, markup=False, soft_wrap=True)
    refused = f", {replay.refused} refused (not sent, left parked: why above)" if replay.refused else ""
    print(f"replayed: {replay.delivered} delivered, {replay.failing} still failing{refused}")
    if replay.failing or replay.refused:
        raise typer.Exit(1)


@webhooks_app.command("drop")
def webhooks_drop(webhook_id: Annotated[str, typer.Argument(help="the id `erasure webhooks list` shows")]) -> None:
    """Remove one parked event that will not be replayed (audited)."""
    from services.registers import NotFound, drop_dead_letter
    from shared.runtime import get_runtime

    try:
        drop_dead_letter(get_runtime(), webhook_id)
    except NotFound as exc:
        err.print(f"[red]{markup(exc)}[/red]", highlight=False)
        raise typer.Exit(1) from None
    print(f"dropped {visible(webhook_id)}")


@audit_app.command("verify")
def audit_verify(
    file: Annotated[Path | None, typer.Option(help="an exported audit.jsonl; Redis if omitted")] = None,
    head: Annotated[str | None, typer.Option(
        help="with --file: the stored head SEQ:HASH the export must end at (detects entries cut off the end)")] = None,
    export_dir: Annotated[Path | None, typer.Option(
        "--export", help="a folder of `erasure audit export` segments and manifests; needs no Redis")] = None,
    certificates: Annotated[Path | None, typer.Option(
        help="a folder of issued certificates (*.json): each one's audit position must still be in the chain")] = None,
    public_key: Annotated[list[Path] | None, typer.Option(
        help="PEM public key(s) checkpoints and manifests are checked with; default: the configured signing key's")] = None,
) -> None:
    """Check the keyed hash chain, its stored head, every signed checkpoint and certificate position; name the
    first edited, removed or reordered entry, entries missing after a seq, and entries rewritten."""
    from services import audit_check
    from shared.audit import parse_head
    from shared.config import get_settings

    if head is not None and file is None:
        err.print("[red]refused[/red] --head goes with --file; Redis is checked against its own stored head")
        raise typer.Exit(2)
    if file is not None and export_dir is not None:
        err.print("[red]refused[/red] --file or --export, not both")
        raise typer.Exit(2)
    if head is not None:
        try:
            parse_head(head)
        except ValueError as exc:
            err.print(f"[red]refused[/red] --head: {markup(exc)}", soft_wrap=True)
            raise typer.Exit(2) from None
    if certificates is not None and not certificates.is_dir():
        err.print("[red]refused[/red] --certificates must be a folder")
        raise typer.Exit(2)
    runtime = None
    if file is None and export_dir is None:
        from shared.runtime import get_runtime

        runtime = get_runtime()
    settings = runtime.settings if runtime is not None else get_settings()
    try:
        keys = audit_check.public_keys(settings, public_key or [])
    except ValueError as exc:
        err.print(f"[red]refused[/red] {markup(exc)}", soft_wrap=True)
        raise typer.Exit(2) from None
    if export_dir is not None:
        # A third party holds the public key, not the audit key: the signed digests vouch for the bytes.
        key = audit_check.configured_audit_key(settings) if settings.hmac_key.get_secret_value() else None
        report = audit_check.verify_export_dir(export_dir, keys, key, certificates)
        scope = f", {report.manifests} signed manifests" + ("" if key else " (entry hashes not recomputed: no ERASURE_HMAC_KEY)")
    elif file is not None:
        report = audit_check.verify_file(file, head, audit_check.configured_audit_key(settings), keys, certificates)
        scope = ", ending at the given head" if head else "; without --head, entries cut off the end cannot be detected"
    else:
        assert runtime is not None
        report = audit_check.verify_stored(runtime, keys, certificates)
        scope = f", ending at the stored head, {report.checkpoints} signed checkpoints"
    if report.certificates:
        scope += f", {report.certificates} certificate positions"
    if report.unkeyed:
        scope += f"; {report.unkeyed} entries are unkeyed (written before the audit key)"
    if not report.ok:
        for problem in report.problems:
            err.print(f"[red]audit chain broken[/red]: {markup(problem)}", soft_wrap=True)
        raise typer.Exit(1)
    print(visible(f"audit chain intact: {report.entries} entries{scope}"))


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option(help="the folder segments and the manifest are written to (never overwritten)")],
    since: Annotated[int, typer.Option(
        help="export the entries after this seq: the last_seq of the previous export's manifest (0: all)", min=0)] = 0,
) -> None:
    """Write the entries after --since as append-only JSONL segments and a signed manifest, for WORM storage.
    Refused if the stored log does not verify."""
    from services import audit_check
    from shared.runtime import get_runtime

    try:
        done = audit_check.export(get_runtime(), since, out)
    except (ValueError, FileExistsError) as exc:
        err.print(f"[red]refused[/red] {markup(exc)}", soft_wrap=True)
        raise typer.Exit(1) from None
    if done is None:
        print(f"nothing to export: no entries after {since}")
        return
    print(f"exported entries {done.first_seq}-{done.last_seq} in {len(done.segments)} segments; manifest "
          f"{visible(done.manifest.name)}")


def main() -> None:
    """Run the CLI; an error it can explain is one line on stderr and an exit code, not a traceback.

    Unknown ``ERASURE_*`` names are warned about first (a typo of where the data is stops it:
    ``shared.settings_guard``). Settings that cannot be read stop only the commands that read them, so
    ``--version``, ``--help`` and the commands that need no settings still answer."""
    from contextlib import suppress

    import pydantic
    import redis

    from shared.config import ConfigError, describe_invalid, get_settings
    from shared.genesys import GenesysError
    from shared.observability import setup_observability
    from shared.pii.engine import scrub
    from shared.ratelimit import RateLimitError
    from shared.redis_conn import is_auth_error
    from shared.redis_sentinel import credentials_refused
    from shared.settings_guard import EXIT_CONFIG, check_variables

    try:
        check_variables(warn=lambda line: err.print(f"[yellow]warning[/yellow] {markup(line)}", highlight=False,
                                                    soft_wrap=True))
        with suppress(ConfigError):  # a command that reads the settings meets the error and says it below
            setup_observability(get_settings())
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ConfigError as exc:
        _fail(f"configuration: {exc}", EXIT_CONFIG)
    except pydantic.ValidationError as exc:  # Settings built by a command (the demo's): the variables, no values
        _fail(f"configuration: {describe_invalid(exc)}", EXIT_CONFIG)
    except redis.exceptions.RedisError as exc:
        if is_auth_error(exc):  # a wrong password is not an outage: name the setting to fix
            _fail(f"configuration: {credentials_refused(get_settings())}", EXIT_CONFIG)
        _fail(f"Redis: {type(exc).__name__}; check ERASURE_REDIS_URL and that the server answers", 3)
    except GenesysError as exc:
        _fail(f"Genesys Cloud: {exc}", 4)
    except RateLimitError as exc:
        _fail(f"rate budget: {type(exc).__name__}; try again shortly", 4)
    except (OSError, ValueError) as exc:  # unreadable files, malformed JSON lines, bad values
        _fail(f"{type(exc).__name__}: {scrub(str(exc))}", 1)


def _fail(message: str, code: int) -> None:
    err.print(f"[red]error[/red] {markup(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
