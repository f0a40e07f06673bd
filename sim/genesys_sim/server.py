"""Run the simulator: in a background thread (tests, demo, bench) or in the foreground (the CLI)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import SimConfig
from .organisation import OrgStore


@dataclass
class RunningSimulator:
    """Handle on a simulator serving in daemon threads: the API host, and the login host when it has its own
    port (`login_url` is `url` otherwise)."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    store: OrgStore
    login_url: str = ""
    login: _Serving | None = None

    def __post_init__(self) -> None:
        self.login_url = self.login_url or self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the threads."""
        servings = [(self.server, self.thread)] + ([(self.login.server, self.login.thread)] if self.login else [])
        for server, _ in servings:
            server.should_exit = True
        for _, thread in servings:
            thread.join(timeout)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class _Serving:
    """One app serving on one socket in a daemon thread."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread


def _serve_in_thread(app: Starlette, host: str, port: int, timeout: float) -> _Serving:
    """Start serving `app` and return once it accepts requests. Port 0 picks a free port."""
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every keep-alive answer waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    # Binding ourselves closes the race between choosing a free port and uvicorn taking it.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"genesys-sim-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError("simulator thread exited during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"simulator did not start within {timeout}s")
        time.sleep(0.01)
    url_host = f"[{host}]" if family == socket.AF_INET6 else host
    return _Serving(url=f"http://{url_host}:{bound_port}", port=bound_port, server=server, thread=thread)


def start_in_thread(config: SimConfig, host: str = "127.0.0.1", port: int = 0, timeout: float = 15.0,
                    login_port: int | None = None) -> RunningSimulator:
    """Start serving and return once the server accepts requests. Port 0 picks a free port.

    With `login_port` (0: any free port) the token endpoint is served there alone, as on the platform's
    login.<region> host, and the API port answers /oauth/token with 404 like api.<region>."""
    if login_port is None:
        app = create_app(config)
        api = _serve_in_thread(app, host, port, timeout)
        return RunningSimulator(url=api.url, port=api.port, server=api.server, thread=api.thread,
                                store=app.state.store)
    store = OrgStore(config)
    api = _serve_in_thread(create_app(config, store, "api"), host, port, timeout)
    try:
        login = _serve_in_thread(create_app(config, store, "login"), host, login_port, timeout)
    except Exception:
        api.server.should_exit = True
        raise
    return RunningSimulator(url=api.url, port=api.port, server=api.server, thread=api.thread, store=store,
                            login_url=login.url, login=login)


def serve(config: SimConfig, host: str, port: int, login_port: int | None = None) -> None:
    """Serve in the foreground until interrupted; with `login_port`, the login host is served there (in a
    thread) and the API port has no token endpoint.

    No access log: the GDPR subject search carries the searched email or phone in its query string, and
    a log line must not hold one even for synthetic subjects (it also costs CPU at bench rates)."""
    if login_port is None:
        uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)
        return
    store = OrgStore(config)
    login = _serve_in_thread(create_app(config, store, "login"), host, login_port, 15.0)
    try:
        uvicorn.run(create_app(config, store, "api"), host=host, port=port, log_level="info", access_log=False)
    finally:
        login.server.should_exit = True
