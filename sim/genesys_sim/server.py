"""Run the simulator: in a background thread (tests, demo, bench) or in the foreground (the CLI)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from .app import create_app
from .config import SimConfig
from .organisation import OrgStore


@dataclass
class RunningSimulator:
    """Handle on a simulator serving in a daemon thread."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    store: OrgStore

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(config: SimConfig, host: str = "127.0.0.1", port: int = 0, timeout: float = 15.0) -> RunningSimulator:
    """Start serving and return once the server accepts requests. Port 0 picks a free port."""
    app = create_app(config)
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
    return RunningSimulator(
        url=f"http://{url_host}:{bound_port}", port=bound_port, server=server, thread=thread, store=app.state.store
    )


def serve(config: SimConfig, host: str, port: int) -> None:
    """Serve in the foreground until interrupted.

    No access log: the GDPR subject search carries the searched email or phone in its query string, and
    a log line must not hold one even for synthetic subjects (it also costs CPU at bench rates)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)
