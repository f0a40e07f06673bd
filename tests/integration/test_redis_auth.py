"""Issue 18 on a Redis of the test's own, secured as production should run it: a ``requirepass`` for the
default user and an ACL user for the project (and, in one test, TLS only).

- The demo's flow completes with the user and password from ERASURE_REDIS_USERNAME/ERASURE_REDIS_PASSWORD;
  afterwards no masked transcript is left and no key, nor the demo's output folder, holds an identifier.
- A stack over ``rediss://`` (a certificate of a throwaway CA, checked) erases a subject; no key holds the
  access token the simulator issued, nor the subject's identifiers; the AOF is rewritten after the scrub.
- With a wrong password the worker, the intake API and the CLI each stop at once with one line naming the
  variable to fix: no traceback, no endless reconnecting.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from genesys_sim.profiles import realistic

from services.workers import POOLS, worker_command
from shared.models import RequestState
from tests.support.private_redis import PrivateRedis, free_port, require_redis_server
from tests.support.redis_scan import every_value, found_in
from tests.support.stack import make_stack, submit, wait_final, wait_until
from tests.support.tls_certs import make_server_tls

pytestmark = pytest.mark.integration

USER = "erasure-app"
SUBJECTS = 4
#: The longest a process may take to give up on a refused password (a Redis outage would take minutes).
FAIL_FAST_S = 30.0


def _identifiers(subjects: list[dict]) -> list[str]:
    values: list[str] = []
    for subject in subjects:
        values += subject["emails"] + subject["phones"] + [subject["name"]]
        values += [p.lstrip("+") for p in subject["phones"]]
    return values


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Iterator[PrivateRedis]:
    """requirepass for the default user (the test's own access) and an ACL user for the project."""
    require_redis_server()
    server = PrivateRedis(tmp_path_factory.mktemp("secured-redis"), password=secrets.token_urlsafe(16),
                          users={USER: secrets.token_urlsafe(16)})
    server.start()
    yield server
    server.stop()


def _project_env(server: PrivateRedis, password: str) -> dict[str, str]:
    return {**os.environ, "ERASURE_REDIS_URL": server.url, "ERASURE_REDIS_USERNAME": USER,
            "ERASURE_REDIS_PASSWORD": password, "ERASURE_HMAC_KEY": secrets.token_hex(32),
            "ERASURE_KEY_PREFIX": f"auth-{uuid.uuid4().hex[:8]}"}


def test_the_demo_completes_with_an_acl_user_and_leaves_nothing_it_should_not(secured, tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo", "--subjects", str(SUBJECTS), "--output-dir", str(out),
         "--redis-url", secured.url, "--key-prefix", "demo-auth", "--timeout", "150"],
        env=_project_env(secured, secured.users[USER]), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == f"erased {SUBJECTS}/{SUBJECTS} subjects, withheld 0, failed 0"

    client = secured.client()
    records = [json.loads(client.get(key)) for key in client.scan_iter("{demo-auth}:req:*")]
    assert len(records) == SUBJECTS and all(r["scrubbed"] for r in records)
    # Transcripts were read and masked (so some were stored on the way), and none is left.
    assert sum(r["transcripts_scanned"] for r in records) > 0
    assert list(client.scan_iter("*transcript:*")) == []
    # The final records are compacted: what only the work in flight read is gone.
    assert all(r["message_conversation_ids"] == [] and r["identity_sources"] == {} for r in records)

    from genesys_sim.server import start_in_thread

    with start_in_thread(realistic(subjects=SUBJECTS, gdpr_step_s=0.3, rate_limit=6000, rate_window_s=60)) as sim:
        subjects = httpx.get(f"{sim.url}/_sim/subjects").json()  # same seed: the demo's ground truth
    values = _identifiers(subjects)
    assert found_in(client, values) == []
    folder = {str(p.relative_to(out)): p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()}
    assert any(name.startswith("logs/") for name in folder) and "audit.jsonl" in folder
    assert {name: [v for v in values if v.lower() in text.lower()] for name, text in folder.items()
            if any(v.lower() in text.lower() for v in values)} == {}
    # The shared access token is there, sealed (its clear form is ``token|expiry``).
    tokens = [value for key, value in every_value(client) if ":oauth:" in key and not key.endswith(":lock")]
    assert tokens and all("|" not in value.split(" ", 1)[1] for value in tokens)


def test_over_tls_a_subject_is_erased_and_redis_never_holds_the_token_or_the_identifiers(tmp_path):
    require_redis_server()
    tls = make_server_tls(tmp_path / "tls")
    # A plain AOF (no RDB preamble, whose strings may be compressed), so what it holds can be searched.
    server = PrivateRedis(tmp_path / "tls-redis", password=secrets.token_urlsafe(16),
                          users={USER: secrets.token_urlsafe(16)}, tls=tls)
    server.start()
    server.client().config_set("aof-use-rdb-preamble", "no")
    config = realistic(subjects=3, seed=11, gdpr_step_s=0.2, rate_limit=6000)
    stack, sim = make_stack(tmp_path, config, ERASURE_REDIS_URL=server.url, ERASURE_REDIS_USERNAME=USER,
                            ERASURE_REDIS_PASSWORD=server.users[USER], ERASURE_REDIS_TLS_CA_FILE=str(tls.ca_file),
                            ERASURE_WATCHDOG_INTERVAL_S="1", ERASURE_AOF_REWRITE_INTERVAL_S="1")
    try:
        assert stack.env["ERASURE_REDIS_URL"].startswith("rediss://")
        for pool in POOLS:
            stack.workers.start(pool, stack.env, tmp_path / "logs", concurrency=2)
        subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
        values = _identifiers([subject])
        [request_id] = submit(stack, [{"ticket": "TLS-1", "emails": subject["emails"][:1],
                                       "phones": subject["phones"][:1], "approved_by": "it-dpo"}])
        states = wait_final(stack, [request_id], timeout_s=120)
        assert states[request_id] is RequestState.COMPLETED

        client = server.client()
        issued = list(sim.store.tokens)  # every token the simulator's login host handed out
        assert issued
        assert found_in(client, issued) == []
        assert found_in(client, values) == []
        assert list(client.scan_iter("*transcript:*")) == []
        # The subject's email was written in clear at intake; once a worker has had the AOF rewritten after
        # the scrub, the append-only file no longer holds it either.
        aof = server.directory / "appendonlydir"
        wait_until(lambda: not any(subject["emails"][0].encode() in p.read_bytes() for p in aof.iterdir()),
                   timeout_s=60, message="the AOF rewritten without the scrubbed identifier")
    finally:
        stack.workers.stop()
        sim.stop()
        server.stop()


def _one_line_naming(output: str, variable: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    naming = [line for line in output.splitlines() if variable in line]
    assert len(naming) == 1, output[-3000:]
    assert "Redis refused the credentials" in naming[0]


def _run(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return result, time.monotonic() - started


def test_a_wrong_password_stops_the_worker_the_api_and_the_cli_at_once(secured):
    wrong = _project_env(secured, "not-the-password")

    worker, took = _run(worker_command("discovery", concurrency=1), wrong)
    assert worker.returncode != 0 and took < FAIL_FAST_S
    _one_line_naming(worker.stdout + worker.stderr, "ERASURE_REDIS_PASSWORD")

    api, took = _run([sys.executable, "-m", "uvicorn", "services.intake.api:app", "--host", "127.0.0.1",
                      "--port", str(free_port())], wrong)
    assert api.returncode != 0 and took < FAIL_FAST_S
    _one_line_naming(api.stdout + api.stderr, "ERASURE_REDIS_PASSWORD")

    cli, took = _run([sys.executable, "-m", "services.cli", "status"], wrong)
    assert cli.returncode == 2 and took < FAIL_FAST_S
    _one_line_naming(cli.stdout + cli.stderr, "ERASURE_REDIS_PASSWORD")

    # The password in the URL instead: the URL is what to fix.
    in_url = {**wrong, "ERASURE_REDIS_URL": secured.url.replace("redis://", f"redis://{USER}:wrong@"),
              "ERASURE_REDIS_PASSWORD": ""}
    cli, took = _run([sys.executable, "-m", "services.cli", "status"], in_url)
    assert cli.returncode == 2 and took < FAIL_FAST_S
    _one_line_naming(cli.stdout + cli.stderr, "ERASURE_REDIS_URL")
    assert "wrong" not in cli.stdout + cli.stderr
