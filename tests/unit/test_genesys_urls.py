"""The Genesys API and login URLs carry the OAuth client secret (HTTP Basic at the token endpoint) and bearer
tokens: plain http is refused at start except to a loopback host or one named in
ERASURE_GENESYS_INSECURE_HOSTS (the simulator in docker compose), and an https host that is no Genesys Cloud
region's domain is warned about (security review: a misconfigured or tampered base URL sent both in clear)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx
import pytest

from shared.config import ConfigError, Settings, load_settings
from shared.genesys.auth import TokenProvider
from shared.settings_guard import check_can_start
from shared.signing import generate_private_pem

SECRET = "s3cret-client"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No ERASURE_* variable of the test run, and a working directory without a .env."""
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def environment(monkeypatch, **values: str) -> None:
    base = {"ERASURE_HMAC_KEY": "h" * 32, "ERASURE_SIGNING_KEY": generate_private_pem(),
            "ERASURE_GENESYS_CLIENT_ID": "cid", "ERASURE_GENESYS_CLIENT_SECRET": SECRET}
    for name, value in {**base, **values}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("role", ["worker", "api"])
@pytest.mark.parametrize(("variable", "url"), [
    ("ERASURE_GENESYS_BASE_URL", "http://api.attacker.example:80"),
    ("ERASURE_GENESYS_BASE_URL", "http://user:pw-in-url@api.attacker.example/?token=q-in-url"),
    ("ERASURE_GENESYS_LOGIN_URL", "http://user:pw-in-url@login.attacker.example/?token=q-in-url"),
    ("ERASURE_GENESYS_BASE_URL", "http://127.0.0.1.attacker.example:8700"),  # not loopback: a name under another
    ("ERASURE_GENESYS_BASE_URL", "http://localhost.attacker.example:8700"),
])
def test_plain_http_to_a_host_not_loopback_nor_listed_is_refused_at_start_with_one_line(monkeypatch, role, variable,
                                                                                         url):
    environment(monkeypatch, ERASURE_GENESYS_REGION="eu_west_1", **{variable: url})
    with pytest.raises(ConfigError) as refused:
        check_can_start(role)
    message = str(refused.value)
    assert message.startswith(variable) and "ERASURE_GENESYS_INSECURE_HOSTS" in message and "\n" not in message
    for secret in (SECRET, "pw-in-url", "user:", "q-in-url", "token="):
        assert secret not in message


def test_a_derived_login_host_over_http_is_refused_too(monkeypatch):
    """``http://api.sim`` listed: its token host ``http://login.sim`` (derived) gets the secret, and is not listed."""
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL="http://api.sim:8700", ERASURE_GENESYS_INSECURE_HOSTS="api.sim")
    with pytest.raises(ConfigError, match=r"^ERASURE_GENESYS_BASE_URL.*login\.sim.*ERASURE_GENESYS_INSECURE_HOSTS"):
        check_can_start("worker")
    monkeypatch.setenv("ERASURE_GENESYS_INSECURE_HOSTS", "api.sim, login.sim")
    assert check_can_start("worker").login_base_url == "http://login.sim:8700"


@pytest.mark.parametrize("url", ["ftp://api.mypurecloud.ie", "api.mypurecloud.ie", "https://", "http://[::1"])
def test_a_url_that_is_not_absolute_http_or_https_is_refused(monkeypatch, url):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL=url)
    with pytest.raises(ConfigError, match=r"^ERASURE_GENESYS_BASE_URL"):
        check_can_start("worker")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "http://127.8.9.10:8700", "http://[::1]:8700",
                                 "http://localhost:8700", "http://LocalHost:8700"])
def test_plain_http_to_a_loopback_host_is_accepted(monkeypatch, url):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL=url, ERASURE_GENESYS_LOGIN_URL=url.replace("8700", "8701"))
    settings = check_can_start("worker")
    assert settings.api_base_url == url and settings.login_base_url == url.replace("8700", "8701")


@pytest.mark.parametrize("listed", ["simulator", " other , Simulator ", '["other", "simulator"]'])
def test_plain_http_to_a_listed_host_is_accepted_comma_separated_or_json(monkeypatch, listed):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL="http://simulator:8700",
                ERASURE_GENESYS_LOGIN_URL="http://simulator:8701", ERASURE_GENESYS_INSECURE_HOSTS=listed)
    settings = check_can_start("worker")
    assert "simulator" in settings.genesys_insecure_hosts
    assert (settings.api_base_url, settings.login_base_url) == ("http://simulator:8700", "http://simulator:8701")


def test_an_ipv6_address_can_be_listed_in_any_spelling(monkeypatch):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL="http://[fd00:0:0::1]:8700",
                ERASURE_GENESYS_INSECURE_HOSTS="FD00::1")
    assert check_can_start("worker").genesys_insecure_hosts == ["fd00::1"]


@pytest.mark.parametrize("entry", ["http://simulator:8700", "simulator:8700", "*", "sim/ulator"])
def test_an_insecure_host_entry_that_is_not_a_host_name_is_refused(monkeypatch, entry):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL="http://simulator:8700", ERASURE_GENESYS_INSECURE_HOSTS=entry)
    with pytest.raises(ConfigError, match=r"^ERASURE_GENESYS_INSECURE_HOSTS: "):
        check_can_start("worker")


def test_https_to_any_host_is_accepted_and_an_unknown_one_is_warned_about_once(monkeypatch, caplog):
    environment(monkeypatch, ERASURE_GENESYS_BASE_URL="https://user:pw-in-url@api.proxy.example/?token=q-in-url")
    with caplog.at_level(logging.WARNING, logger="erasure.settings"):
        settings = check_can_start("worker")
    assert settings.api_base_url.startswith("https://")
    warned = [r.getMessage() for r in caplog.records if "GENESYS" in r.getMessage()]
    assert len(warned) == 1 and "api.proxy.example" in warned[0] and "ERASURE_GENESYS_BASE_URL" in warned[0]
    for secret in (SECRET, "pw-in-url", "q-in-url"):
        assert secret not in warned[0]


@pytest.mark.parametrize("values", [
    {"ERASURE_GENESYS_REGION": "eu_west_1"},
    {"ERASURE_GENESYS_REGION": "mypurecloud.com.au"},
    {"ERASURE_GENESYS_BASE_URL": "https://api.mypurecloud.ie"},
    {"ERASURE_GENESYS_BASE_URL": "https://api.euw2.pure.cloud", "ERASURE_GENESYS_LOGIN_URL": "https://login.euw2.pure.cloud/"},
    {"ERASURE_GENESYS_BASE_URL": "http://127.0.0.1:8700"},
    {"ERASURE_GENESYS_BASE_URL": "https://simulator:8700", "ERASURE_GENESYS_INSECURE_HOSTS": "simulator"},
])
def test_a_region_domain_a_loopback_or_a_listed_host_is_not_warned_about(monkeypatch, caplog, values):
    environment(monkeypatch, **values)
    with caplog.at_level(logging.WARNING, logger="erasure.settings"):
        check_can_start("worker")
    assert not [r for r in caplog.records if "GENESYS" in r.getMessage()]


def test_the_settings_object_refuses_it_too_so_no_process_can_send_the_secret_in_clear():
    """The review's repro: the secret went to the token endpoint in clear through a TokenProvider built
    from the settings. Settings with such a URL cannot be built at all (like webhook targets)."""
    with pytest.raises(ValueError, match="ERASURE_GENESYS_BASE_URL"):
        Settings(genesys_base_url="http://api.attacker.example:80", genesys_client_secret=SECRET)
    settings = Settings(genesys_base_url="http://sim:1", genesys_insecure_hosts=["sim"], genesys_client_secret=SECRET)
    sent: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.scheme, request.url.host))
        return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})

    TokenProvider(httpx.Client(transport=httpx.MockTransport(handler)), settings.login_base_url, "cid", SECRET).token()
    assert sent == [("http", "sim")]  # listed: the simulator rig works


def test_the_insecure_hosts_survive_the_childs_environment(monkeypatch):
    given = Settings(genesys_base_url="http://sim:1", genesys_insecure_hosts=["sim", "other"])
    for name, value in given.to_environ().items():
        monkeypatch.setenv(name, value)
    assert load_settings() == given


def test_an_http_base_url_stops_the_cli_with_one_line_naming_the_setting():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    env = {**clean, "ERASURE_HMAC_KEY": "k" * 32, "ERASURE_GENESYS_CLIENT_SECRET": SECRET,
           "ERASURE_GENESYS_BASE_URL": "http://u:pw-in-url@api.attacker.example/?t=q-in-url"}
    result = subprocess.run([sys.executable, "-m", "services.cli", "webhooks", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "ERASURE_GENESYS_BASE_URL" in result.stderr and "ERASURE_GENESYS_INSECURE_HOSTS" in result.stderr
    for secret in (SECRET, "pw-in-url", "q-in-url"):
        assert secret not in result.stderr
