"""``erasure demo``: the whole job on one machine with nothing but Python.

An embedded Redis-compatible server (fakeredis's TCP server) is the broker and the store, the
simulator plays the Genesys organisation, one worker process per pool does the work, and a few
dozen synthetic subjects are erased end to end. Certificates and the audit log land in
``erasure-output/``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from genesys_sim.profiles import realistic
from genesys_sim.server import start_in_thread
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services import audit_check
from services.intake.submit import enqueue_discovery, submit
from services.workers import WorkerSet, worker_environ
from shared.celery_app import app, configure
from shared.certificate_html import render_certificate_html
from shared.certificate_signing import PUBLIC_KEY_FILE
from shared.certificate_store import deliveries
from shared.config import Settings
from shared.models import FINAL_STATES
from shared.runtime import Runtime
from shared.signing import Signer, generate_private_pem


@dataclass
class DemoResult:
    total: int
    erased: int
    withheld: int
    failed: int
    kind: str = "erase"
    output_dir: Path = Path("erasure-output")
    key_id: str = ""

    @property
    def accounted(self) -> bool:
        return self.erased + self.withheld + self.failed == self.total

    @property
    def exit_code(self) -> int:
        return 0 if self.accounted and self.failed == 0 else 1

    def summary(self) -> str:
        done = {"anonymise": "anonymised", "access": "exported"}.get(self.kind, "erased")
        return f"{done} {self.erased}/{self.total} subjects, withheld {self.withheld}, failed {self.failed}"

    def how_to_verify(self) -> str:
        """The command a third party runs on a certificate, with the run's public key only."""
        certificates = self.output_dir / "certificates"
        return (f"certificates signed by {self.key_id} (a key made for this run); verify one with:\n"
                f"  erasure certificate verify {certificates}/DEMO-0001.json --public-key "
                f"{self.output_dir / PUBLIC_KEY_FILE}")


def start_embedded_redis() -> tuple[str, object]:
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    threading.Thread(target=server.serve_forever, name="embedded-redis", daemon=True).start()
    return f"redis://127.0.0.1:{server.server_address[1]}/0", server


def run_demo(subjects: int = 30, output_dir: Path = Path("erasure-output"), timeout_s: float = 300.0,
             redis_url: str | None = None, key_prefix: str = "demo",
             console: Console | None = None, kind: str = "erase") -> DemoResult:
    """``kind`` goes on every request (``erase``, ``anonymise`` or ``access``); intake refuses one it does not
    carry out."""
    console = console or Console(stderr=True)
    redis_server: object | None = None
    if redis_url is None:
        redis_url, redis_server = start_embedded_redis()
    # The token from a login host of its own port, as on the platform (the API port refuses /oauth/token).
    sim = start_in_thread(realistic(subjects=subjects, gdpr_step_s=0.3, rate_limit=6000, rate_window_s=60), login_port=0)
    # A signing key for this run only (no credentials to set up): its private half lives in this process
    # and the workers' environment and is gone with them; its public half is written next to the certificates.
    settings = Settings(
        redis_url=redis_url, genesys_base_url=sim.url, genesys_login_url=sim.login_url, genesys_client_id="sim-client",
        genesys_client_secret=SecretStr("sim-secret"), hmac_key=SecretStr(secrets.token_hex(32)), key_prefix=key_prefix,
        signing_key=SecretStr(generate_private_pem()),  # one per run: its public half is in the output
        rate_per_minute=5400, rate_burst=20, poll_interval_s=0.3, poll_max_interval_s=2, output_dir=output_dir,
    )
    signer = settings.require_signer()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / PUBLIC_KEY_FILE).write_text(signer.public_pem())
    # This process submits with these settings; the workers read the same ones from their environment.
    configure(app, settings)
    runtime = Runtime.from_settings(settings)
    workers = WorkerSet()
    workers.start_all(worker_environ(settings), output_dir / "logs")
    try:
        ground_truth = httpx.get(f"{sim.url}/_sim/subjects", timeout=10).json()
        request_ids: dict[str, str] = {}
        for n, subject in enumerate(ground_truth, start=1):
            ticket = f"DEMO-{n:04d}"
            record = submit(runtime, {"ticket": ticket, "emails": subject["emails"][:1],
                                      "phones": subject["phones"][:1], "approved_by": "demo-dpo", "kind": kind},
                            enqueue=False)
            request_ids[record.request_id] = ticket
        enqueue_discovery(runtime, list(request_ids))
        states = _follow(runtime, list(request_ids), timeout_s, console, workers)
        _export(runtime, request_ids, output_dir, signer)
    finally:
        workers.stop()
        sim.stop()
        if redis_server is not None:
            redis_server.shutdown()  # type: ignore[attr-defined]
    counts = Counter(state for state in states.values())
    return DemoResult(
        total=len(request_ids),
        erased=counts["completed"],
        withheld=counts["completed_with_withheld"],
        failed=counts["partial"] + counts["failed"] + counts["rejected"],
        kind=kind,
        output_dir=output_dir,
        key_id=signer.key_id,
    )


def _follow(runtime: Runtime, request_ids: list[str], timeout_s: float, console: Console,
            workers: WorkerSet) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    states: dict[str, str] = {}
    with Progress(TextColumn("erasing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("erasing", total=len(request_ids))
        while time.monotonic() < deadline:
            current = runtime.store.states(request_ids)
            states = {rid: s.value for rid, s in current.items()}
            done = sum(1 for s in current.values() if s in FINAL_STATES)
            progress.update(task, completed=done)
            if done == len(request_ids):
                break
            if workers.dead():
                console.print(f"[red]worker(s) exited: {', '.join(workers.dead())}")
                break
            time.sleep(0.25)
    return states


def _export(runtime: Runtime, request_ids: dict[str, str], output_dir: Path, signer: Signer) -> None:
    certificates = output_dir / "certificates"
    certificates.mkdir(parents=True, exist_ok=True)
    for request_id, ticket in request_ids.items():
        raw = runtime.redis.get(runtime.keys.certificate(request_id))
        if raw is not None:
            (certificates / f"{ticket}.json").write_text(str(raw))
            page = render_certificate_html(json.loads(str(raw)), public_key=signer.public_key,
                                           delivered=deliveries(runtime.redis, runtime.keys, request_id))
            (certificates / f"{ticket}.html").write_text(page)
    with (output_dir / "audit.jsonl").open("w") as audit:
        for entry in runtime.audit.entries():
            audit.write(json.dumps(entry, sort_keys=True) + "\n")
    # The stored head, so `erasure audit verify --file audit.jsonl --head "$(cat audit.head)"` also
    # catches entries cut off the end of the exported file.
    head = runtime.redis.get(runtime.keys.audit_head)
    if head is not None:
        (output_dir / "audit.head").write_text(str(head) + "\n")
    # The log as `erasure audit export` ships it (segments, signed manifest) and the key that checks it:
    # `erasure audit verify --export audit-export --public-key signing-key.pub.pem --certificates certificates`
    # needs neither Redis nor any secret (the run's keys are gone with it).
    # A rerun's export replaces the last run's (another key, another log): only the demo's own folder.
    shutil.rmtree(output_dir / "audit-export", ignore_errors=True)
    audit_check.export(runtime, 0, output_dir / "audit-export")  # refused if the stored log does not verify
