"""Issue 19's settings: a settings file under the environment, unknown ERASURE_* names warned about (and a
typo of where the data is refused), one line naming the variable for a refused value, and what a worker
and the HTTP intake check before they start."""

from __future__ import annotations

import os

import pytest

from shared.config import ConfigError, load_settings
from shared.settings_guard import check_can_start, check_variables, unknown_variables
from shared.signing import generate_private_pem


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No ERASURE_* variable of the test run, and a working directory without a .env."""
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_a_misspelt_setting_is_warned_about_with_the_closest_name(monkeypatch):
    monkeypatch.setenv("ERASURE_RATE_BURTS", "9")
    warned: list[str] = []
    unknown = check_variables(warn=warned.append)
    assert [(u.name, u.closest) for u in unknown] == [("ERASURE_RATE_BURTS", "ERASURE_RATE_BURST")]
    assert warned == ["ERASURE_RATE_BURTS in the environment is not a setting and is ignored "
                      "(did you mean ERASURE_RATE_BURST?)"]
    assert "9" not in warned[0]  # names only, never a value


def test_a_misspelt_redis_url_is_refused_rather_than_falling_back_to_localhost(monkeypatch):
    monkeypatch.setenv("ERASURE_REDIS_URI", "redis://:pw@redis.internal:6379/0")
    with pytest.raises(ConfigError, match="ERASURE_REDIS_URI is not a setting: did you mean ERASURE_REDIS_URL") as refused:
        check_variables(warn=lambda _: None)
    assert "redis.internal" not in str(refused.value) and "pw" not in str(refused.value)


def test_the_same_typo_beside_the_real_variable_is_only_warned_about(monkeypatch):
    monkeypatch.setenv("ERASURE_REDIS_URI", "redis://old:6379/0")
    monkeypatch.setenv("ERASURE_REDIS_URL", "redis://redis.internal:6379/0")
    warned: list[str] = []
    check_variables(warn=warned.append)
    assert len(warned) == 1 and "ERASURE_REDIS_URI" in warned[0]


def test_names_read_outside_settings_and_other_prefixes_are_not_unknown(monkeypatch):
    monkeypatch.setenv("ERASURE_BOOTSTRAP_KEY", "ek_x")
    monkeypatch.setenv("ERASURE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("erasure_rate_burst", "7")  # settings are read case-insensitively
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://x")
    assert unknown_variables() == []


def test_a_settings_file_is_read_under_the_environment(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("ERASURE_RATE_BURST=7\nERASURE_KEY_PREFIX=from-file\nERASURE_BATCH_SIZ=3\n")
    monkeypatch.setenv("ERASURE_KEY_PREFIX", "from-env")
    settings = load_settings()
    assert (settings.rate_burst, settings.key_prefix) == (7, "from-env")  # the environment wins
    assert [(u.name, u.source, u.closest) for u in unknown_variables()] == [
        ("ERASURE_BATCH_SIZ", "settings file .env", "ERASURE_BATCH_SIZE")]


def test_the_settings_file_can_be_named_and_a_named_file_must_exist(monkeypatch, tmp_path):
    named = tmp_path / "erasure.env"
    named.write_text("ERASURE_RATE_BURST=8\n")
    (tmp_path / ".env").write_text("ERASURE_RATE_BURST=7\n")
    monkeypatch.setenv("ERASURE_ENV_FILE", str(named))
    assert load_settings().rate_burst == 8
    monkeypatch.setenv("ERASURE_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match="ERASURE_ENV_FILE: no such file"):
        load_settings()


def test_a_refused_value_is_one_line_naming_the_variable_and_not_the_value(monkeypatch):
    monkeypatch.setenv("ERASURE_RATE_BURST", "s3cret-not-a-number")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("ERASURE_RATE_BURST: ") and "\n" not in message and "s3cret" not in message


def worker_environment(monkeypatch, **values: str) -> None:
    base = {"ERASURE_HMAC_KEY": "h" * 32, "ERASURE_SIGNING_KEY": generate_private_pem(),
            "ERASURE_GENESYS_BASE_URL": "http://127.0.0.1:1"}
    for name, value in {**base, **values}.items():
        if value:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("unset", "named"), [
    ("ERASURE_GENESYS_BASE_URL", "set ERASURE_GENESYS_REGION or ERASURE_GENESYS_BASE_URL"),
    ("ERASURE_HMAC_KEY", "ERASURE_HMAC_KEY must be set"),
    ("ERASURE_SIGNING_KEY", "ERASURE_SIGNING_KEY (a PEM) or ERASURE_SIGNING_KEY_FILE must be set"),
])
def test_a_worker_cannot_start_without_what_every_request_needs(monkeypatch, unset, named):
    worker_environment(monkeypatch, **{unset: ""})
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        check_can_start("worker")


def test_a_worker_with_webhook_targets_needs_their_secret(monkeypatch):
    worker_environment(monkeypatch, ERASURE_WEBHOOK_TARGETS='{"crm": "https://crm.example/hook"}')
    with pytest.raises(ConfigError, match="ERASURE_WEBHOOK_SECRET"):
        check_can_start("worker")


def test_the_intake_needs_the_digest_key_but_not_the_platform(monkeypatch):
    monkeypatch.setenv("ERASURE_HMAC_KEY", "h" * 32)
    assert check_can_start("api").genesys_region is None
    monkeypatch.delenv("ERASURE_HMAC_KEY")
    with pytest.raises(ConfigError, match="ERASURE_HMAC_KEY"):
        check_can_start("api")


def test_a_worker_with_a_refused_value_exits_with_one_line_not_a_traceback(tmp_path):
    """Celery reads its configuration while it parses the worker's options, before any signal: a refused
    value stopped it there with a pydantic traceback."""
    import subprocess

    from services.workers import worker_command

    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ERASURE_")}
    env |= {"ERASURE_GENESYS_REGION": "mars", "ERASURE_HMAC_KEY": "h" * 32, "ERASURE_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(worker_command("polling", concurrency=1), env=env, capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    naming = [line for line in result.stderr.splitlines() if "ERASURE_GENESYS_REGION" in line]
    assert naming == ["worker refuses to start: ERASURE_GENESYS_REGION must be a region name (e.g. eu_west_1) "
                      "or domain (e.g. mypurecloud.ie)"]
    assert "Traceback" not in result.stderr and "ValidationError" not in result.stderr
