"""Run the router application with uvicorn, in the foreground or on a background thread."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from harness.errors import HarnessError

logger = logging.getLogger("harness.serve")


def is_loopback(host: str) -> bool:
    """Return True when ``host`` names only this machine (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free port.

    Raises
    ------
    HarnessError
        When the address is in use or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The explicit IPPROTO_TCP matters: asyncio turns Nagle's algorithm off
    # (TCP_NODELAY) only on sockets whose proto is IPPROTO_TCP, and with it on,
    # a response written as headers then body waits about 40 ms for the
    # client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise HarnessError(f"cannot listen on {host}:{port}: {error.strerror}; pick another --port or --host") from None
    sock.listen(2048)
    return sock


def _uvicorn_config(app: FastAPI) -> uvicorn.Config:
    # log_config=None keeps the process's logging set-up; the app writes its
    # own line per request, so uvicorn's access log would repeat it.
    return uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5,
                          timeout_keep_alive=30)


def run_server(app: FastAPI, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` on ``host:port`` until interrupted (SIGINT or SIGTERM)."""
    if not is_loopback(host):
        logger.warning("listening on %s: the server has no authentication, so anyone who reaches this address "
                       "can spend the pool's API budget", host)
    sock = bind_socket(host, port)
    display_host = f"[{host}]" if ":" in host else host
    logger.info("router server listening on http://%s:%d/v1", display_host, sock.getsockname()[1])
    server = uvicorn.Server(_uvicorn_config(app))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on SIGINT, then raises it again.
        logger.info("router server stopped by SIGINT")


class ServerThread:
    """Run the app with uvicorn on a background thread, for tests and benchmarks.

    Use as a context manager; ``base_url`` ends in ``/v1``.
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = bind_socket(host, port)
        self.app = app
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        self._server = uvicorn.Server(_uvicorn_config(app))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"uvicorn-{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout: float = 30.0) -> "ServerThread":
        """Start serving and wait until uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise HarnessError(f"the router server on port {self.port} stopped during start-up; see the log")
            if time.monotonic() > deadline:
                raise HarnessError(f"the router server on port {self.port} did not start within {timeout:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
