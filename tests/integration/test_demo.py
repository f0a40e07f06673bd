"""The demo, run as a user would (``erasure demo``), against the real Redis so that what it
leaves behind can be inspected: logs, audit, certificates and every Redis key hold no identifier
of a demo subject in clear, and the HTML certificate renders in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid

import pytest
import redis
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from shared.keys import Keys
from tests.support.chromium_required import require_chromium
from tests.support.stack import REDIS_URL, cleanup_prefix

SUBJECTS = 6


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, redis_available):
    out = tmp_path_factory.mktemp("demo")
    prefix = f"demo-it-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo", "--subjects", str(SUBJECTS), "--output-dir", str(out),
         "--redis-url", REDIS_URL, "--key-prefix", prefix, "--timeout", "120"],
        capture_output=True, text=True, timeout=300)
    with start_in_thread(SimConfig(subjects=SUBJECTS)) as sim:  # same seed: the demo's ground truth
        import httpx

        subjects = httpx.get(f"{sim.url}/_sim/subjects").json()
    yield {"result": result, "out": out, "prefix": prefix, "subjects": subjects}
    cleanup_prefix(redis_available, prefix)


def identifiers(subjects) -> list[str]:
    values: list[str] = []
    for subject in subjects:
        values += subject["emails"] + subject["phones"] + [subject["name"]]
        values += [p.lstrip("+") for p in subject["phones"]]
    return values


def leaks(text: str, values: list[str]) -> list[str]:
    lowered = text.lower()
    return [v for v in values if v.lower() in lowered]


def test_demo_erases_every_subject(demo_run):
    result = demo_run["result"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == f"erased {SUBJECTS}/{SUBJECTS} subjects, withheld 0, failed 0"


def test_the_demos_certificates_verify_with_the_public_key_it_exported(demo_run, tmp_path):
    """Issue 18: the demo signs with a key of its own run, writes the public half next to the certificates,
    and says how to verify; ``erasure certificate verify`` needs nothing else (no Redis: nothing listens at
    the address it is given), and a copy with one changed byte fails."""
    out, result = demo_run["out"], demo_run["result"]
    public = out / "signing-key.pub.pem"
    assert "PUBLIC KEY" in public.read_text() and "PRIVATE" not in "".join(p.read_text() for p in out.glob("*.pem"))
    assert f"erasure certificate verify {out}/certificates/DEMO-0001.json --public-key {public}" in result.stdout
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")},
           "ERASURE_REDIS_URL": "redis://127.0.0.1:1/0"}
    verify = [sys.executable, "-m", "services.cli", "certificate", "verify", "--public-key", str(public)]
    certificates = sorted((out / "certificates").glob("*.json"))
    assert len(certificates) == SUBJECTS
    key_ids = set()
    for path in certificates:
        checked = subprocess.run([*verify, str(path)], capture_output=True, text=True, timeout=60, env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        key_ids.add(json.loads(path.read_text())["key_id"])
        assert "valid, signed by" in checked.stdout
    [key_id] = key_ids
    assert f"certificates signed by {key_id}" in result.stdout
    page = (out / "certificates" / "DEMO-0001.html").read_text()
    assert f'id="signature-status">valid, signed by {key_id}' in page
    changed = tmp_path / "DEMO-0001.json"
    changed.write_text(certificates[0].read_text().replace('"outcome": "completed"', '"outcome": "completes"', 1))
    tampered = subprocess.run([*verify, str(changed)], capture_output=True, text=True, timeout=60, env=env)
    assert tampered.returncode == 1 and "tampered" in tampered.stdout


def test_exported_audit_log_verifies_without_redis_or_secrets_and_a_changed_copy_does_not(demo_run, tmp_path):
    """What a third party holds after the run: the export, the public key and the certificates. The
    chain, the signed manifest and every certificate's audit position check out with nothing else."""
    out = demo_run["out"]
    verify = [sys.executable, "-m", "services.cli", "audit", "verify", "--public-key", str(out / "signing-key.pub.pem"),
              "--certificates", str(out / "certificates"), "--export"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    whole = subprocess.run([*verify, str(out / "audit-export")], capture_output=True, text=True, timeout=60, env=env)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert f"{SUBJECTS} certificate positions" in whole.stdout and "1 signed manifests" in whole.stdout
    # The workers signed a checkpoint with every certificate (they got the run's signing key).
    checkpoints = redis.Redis.from_url(REDIS_URL, decode_responses=True).lrange(Keys(demo_run["prefix"]).audit_checkpoints, 0, -1)
    assert len(checkpoints) >= SUBJECTS and all(json.loads(c)["signature"] for c in checkpoints)
    changed = tmp_path / "changed"
    shutil.copytree(out / "audit-export", changed)
    [segment] = changed.glob("*.jsonl")
    segment.write_text("".join(segment.read_text().splitlines(keepends=True)[:-2]))  # the last two entries cut
    cut = subprocess.run([*verify, str(changed)], capture_output=True, text=True, timeout=60, env=env)
    assert cut.returncode == 1 and f"segment {segment.name} was modified" in cut.stderr


def test_no_identifier_in_logs_audit_or_certificates(demo_run):
    values = identifiers(demo_run["subjects"])
    result, out = demo_run["result"], demo_run["out"]
    places = {"stdout": result.stdout, "stderr": result.stderr}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            places[str(path.relative_to(out))] = path.read_text(errors="replace")
    assert any(name.startswith("logs/") for name in places)
    assert "audit.jsonl" in places and any(name.endswith(".html") for name in places)
    found = {name: leaks(text, values) for name, text in places.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_redis_holds_no_identifier_in_clear(demo_run):
    values = identifiers(demo_run["subjects"])
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = demo_run["prefix"]
    keys = list(client.scan_iter(f"*{prefix}*", count=1000))
    assert len(keys) > SUBJECTS  # requests, tickets, audit, certificates, effects...
    offending = {}
    for key in keys:
        kind = client.type(key)
        if kind == "string":
            blob = client.get(key) or ""
        elif kind == "hash":
            blob = json.dumps(client.hgetall(key))
        elif kind == "list":
            blob = json.dumps(client.lrange(key, 0, -1))
        elif kind == "set":
            blob = json.dumps(sorted(client.smembers(key)))
        elif kind == "zset":
            blob = json.dumps(client.zrange(key, 0, -1))
        else:
            blob = ""
        hits = leaks(key + blob, values)
        if hits:
            offending[key] = hits
    assert offending == {}


@pytest.fixture(scope="module")
def chromium() -> str:
    """Asked for before ``demo_run``: without a browser the test ends before the demo is run for it."""
    return require_chromium()


def test_html_certificate_renders_in_chromium(chromium, demo_run, tmp_path):
    page = sorted((demo_run["out"] / "certificates").glob("*.html"))[0]
    certificate = json.loads(page.with_suffix(".json").read_text())
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "certificate.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                   capture_output=True, timeout=90, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=90, check=True).stdout
    text = re.sub(r"<[^>]+>", " ", dom)
    assert certificate["ticket"] in text
    assert "Deadline met" in text
    assert f"Conversations {certificate['erased']['conversations']}" in re.sub(r"\s+", " ", text)
    assert "Outcome: completed" in text


def demo_of_kind(kind: str, subjects: int, tmp_path, redis_client) -> subprocess.CompletedProcess[str]:
    """``erasure demo --kind KIND`` on the real Redis under a key prefix of its own; it must exit 0."""
    prefix = f"demo-{kind}-{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            [sys.executable, "-m", "services.cli", "demo", "--kind", kind, "--subjects", str(subjects), "--output-dir",
             str(tmp_path), "--redis-url", REDIS_URL, "--key-prefix", prefix, "--timeout", "120"],
            capture_output=True, text=True, timeout=300)
    finally:
        cleanup_prefix(redis_client, prefix)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_demo_with_kind_anonymise_anonymises_every_subject(tmp_path, redis_available):
    """``make demo KIND=anonymise`` (``erasure demo --kind anonymise``): every request is an anonymise, and
    every certificate counts what was anonymised."""
    result = demo_of_kind("anonymise", 3, tmp_path, redis_available)
    assert result.stdout.strip().splitlines()[-1] == "anonymised 3/3 subjects, withheld 0, failed 0"
    certificates = sorted((tmp_path / "certificates").glob("*.json"))
    assert len(certificates) == 3
    for path in certificates:
        certificate = json.loads(path.read_text())
        assert certificate["kind"] == "anonymise" and certificate["anonymised"]["conversations_kept"] >= 1
        assert 'id="anonymised"' in path.with_suffix(".html").read_text()


def test_demo_with_kind_access_exports_every_subject_and_keeps_no_link(tmp_path, redis_available):
    """``erasure demo --kind access``: every request ends with the platform's export, and its certificate
    says what was exported and when; the link itself is in no certificate or output file."""
    result = demo_of_kind("access", 2, tmp_path, redis_available)
    assert result.stdout.strip().splitlines()[-1] == "exported 2/2 subjects, withheld 0, failed 0"
    certificates = sorted((tmp_path / "certificates").glob("*.json"))
    assert len(certificates) == 2
    for path in certificates:
        certificate = json.loads(path.read_text())
        assert certificate["kind"] == "access" and certificate["export"]["gdpr_request_id"]
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert "X-Amz-Signature" not in written
