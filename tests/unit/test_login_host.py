"""The token comes from the login host, a host of its own: the region path (``api.`` rewritten to
``login.``, as the SDK does) and the explicit login URL, both run for real against a simulator whose API
port refuses ``/oauth/token`` as ``api.<region>`` does."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import RunningSimulator, start_in_thread
from pydantic import SecretStr

from shared.audit import AuditLog, audit_key
from shared.config import Settings
from shared.effects import EffectLedger
from shared.genesys.errors import AuthenticationError
from shared.keys import Keys
from shared.runtime import Runtime
from shared.store import RequestStore


class HostRouting(httpx.HTTPTransport):
    """Resolves named hosts to the simulator's ports (no DNS, no system files) and records which host
    each request was meant for; any other host is unreachable."""

    def __init__(self, hosts: dict[str, str]) -> None:
        super().__init__()
        self._hosts = {name: httpx.URL(url) for name, url in hosts.items()}
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self._hosts.get(request.url.host)
        if target is None:
            raise httpx.ConnectError(f"no route to {request.url.host}", request=request)
        self.seen.append((request.url.host, request.url.path))
        request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        return super().handle_request(request)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimConfig(subjects=2), login_port=0) as running:
        yield running


def _runtime(settings: Settings, transport: httpx.BaseTransport | None = None) -> Runtime:
    client = fakeredis.FakeRedis()
    keys = Keys(settings.key_prefix)
    return Runtime(settings=settings, redis=client, keys=keys, store=RequestStore(client, keys),
                   audit=AuditLog(client, keys, audit_key(settings.require_hmac_key())), effects=EffectLedger(client, keys),
                   http_transport=transport)


def _settings(**genesys: str) -> Settings:
    return Settings(genesys_client_id="sim-client", genesys_client_secret=SecretStr("sim-secret"),
                    hmac_key=SecretStr("k" * 32), key_prefix="login-host", **genesys)


def test_a_region_takes_its_token_from_login_dot_region(sim: RunningSimulator) -> None:
    settings = _settings(genesys_region="eu_west_1")
    assert (settings.api_base_url, settings.login_base_url) == ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")
    routing = HostRouting({"api.mypurecloud.ie": sim.url, "login.mypurecloud.ie": sim.login_url})
    client = _runtime(settings, routing).genesys("discovery")
    assert client.search_gdpr_subjects("EMAIL", "nobody@example.invalid") == []
    assert routing.seen == [("login.mypurecloud.ie", "/oauth/token"),
                            ("api.mypurecloud.ie", "/api/v2/gdpr/subjects")]


def test_an_explicit_login_url_serves_a_base_url_without_an_api_host(sim: RunningSimulator) -> None:
    settings = _settings(genesys_base_url=sim.url, genesys_login_url=sim.login_url)
    assert _runtime(settings).genesys("deletion").search_gdpr_subjects("EMAIL", "nobody@example.invalid") == []


def test_without_the_login_url_the_api_host_refuses_the_token_and_says_which_setting(sim: RunningSimulator) -> None:
    client = _runtime(_settings(genesys_base_url=sim.url)).genesys("deletion")
    with pytest.raises(AuthenticationError, match="ERASURE_GENESYS_LOGIN_URL"):
        client.search_gdpr_subjects("EMAIL", "nobody@example.invalid")
