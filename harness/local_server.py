"""Start and stop the llama.cpp server (llama-cpp-python) that serves a pool's local models.

One ``python -m llama_cpp.server`` process serves every GGUF file of the pool
on 127.0.0.1 with an OpenAI-compatible API. The request's ``model`` field picks
the model. The server keeps one model in memory at a time, so a request for
another model closes the current one and loads the requested file. A request
for an unknown model name is served by the first model without an error. Both
facts hold for llama-cpp-python 0.3.36.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import HarnessError
from harness.pool import Pool
from harness.weights import get_weights, gguf_path

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.25  # seconds between readiness checks
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
LOG_TAIL_LINES = 25

# llama_cpp.server reads these variables in preference to its --config_file
# argument and the host and port inside the file (llama-cpp-python 0.3.36).
OVERRIDING_ENVIRONMENT = ("CONFIG_FILE", "HOST", "PORT")

# Requests through this opener skip any HTTP proxy set in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _alias(model: str) -> str:
    """Return the served model name: the part of a LiteLLM model string after the first '/'."""
    return model.split("/", 1)[1]


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log output)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(no log output)"


def check_port_free(host: str, port: int, pool: Pool) -> None:
    """Raise HarnessError naming the port and the pool field to change when ``host:port`` is taken."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Uvicorn sets SO_REUSEADDR too, so only a live listener blocks the probe.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise HarnessError(f"cannot bind the local model server to {host}:{port}: {error}") from None
        where = f"in {pool.source}" if pool.source else f"of pool {pool.name!r}"
        raise HarnessError(
            f"port {port} on {host} is already in use by another process, so the local model server "
            f"cannot start; stop that process (see `ss -ltnp 'sport = :{port}'`) or set server.port {where} "
            "to a free port"
        ) from None
    finally:
        probe.close()


class LlamaServer:
    """A running ``llama_cpp.server`` for the local models of a pool, as a context manager.

    Parameters
    ----------
    pool
        A pool whose ``server`` section is set. Every model with ``weights`` is
        served under the name after the first '/' of its ``model`` string.
    log_dir
        Folder for the server's JSON config and its log file; default a new
        temporary folder.
    models_dir
        Folder of the pulled GGUF files; default ``harness.paths.models_dir()``.
    """

    def __init__(self, pool: Pool, log_dir: Path | str | None = None, models_dir: Path | str | None = None) -> None:
        if pool.server is None:
            raise HarnessError(f"pool {pool.name!r} has no 'server' section, so it has no local models to serve")
        self.pool = pool
        self.settings = pool.server
        self.models_dir = models_dir
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.config_path: Path | None = None
        self.log_path: Path | None = None

    @property
    def api_base(self) -> str:
        """OpenAI-compatible base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.settings.port}/v1"

    @property
    def aliases(self) -> list[str]:
        """Served model names, in the order of the pool file."""
        return [_alias(model.model) for model in self.pool.models if model.weights]

    def build_config(self) -> dict[str, Any]:
        """Return the llama_cpp.server config file content as a dict.

        Raises HarnessError when the pool serves no model, two models share a
        served name, or a GGUF file is not pulled.
        """
        entries: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for model in self.pool.models:
            if not model.weights:
                continue
            alias = _alias(model.model)
            if alias in seen:
                raise HarnessError(
                    f"models {seen[alias]!r} and {model.id!r} of pool {self.pool.name!r} are both served as "
                    f"{alias!r}; give them different 'model' names"
                )
            seen[alias] = model.id
            weights = get_weights(model.weights)
            entry: dict[str, Any] = {
                "model": str(gguf_path(model.weights, self.models_dir)),
                "model_alias": alias,
                "n_ctx": self.settings.n_ctx,
                "n_threads": self.settings.n_threads,
                "n_threads_batch": self.settings.n_threads,
                # True allocates an n_ctx x vocabulary float32 logits array (4.3 GB
                # for Gemma's 262,144-token vocabulary at n_ctx 4096), and it doubled
                # generation time in a check on 2 cores. Only `logprobs` need it,
                # so requests with `logprobs` fail with an error.
                "logits_all": False,
                # True writes llama.cpp's load and graph traces, megabytes per model switch.
                "verbose": False,
            }
            if weights.chat_format:
                entry["chat_format"] = weights.chat_format
            entries.append(entry)
        if not entries:
            raise HarnessError(
                f"pool {self.pool.name!r} has a 'server' section but no model with 'weights'; "
                "add 'weights: NAME' to a model or remove the server section"
            )
        return {
            "host": "127.0.0.1",
            "port": self.settings.port,
            # True would cut off a streaming response whenever another request arrives.
            "interrupt_requests": False,
            "models": entries,
        }

    def start(self) -> None:
        """Start the server and wait until ``GET /v1/models`` lists every served model.

        Raises
        ------
        HarnessError
            When weights are missing, the port is taken, the process exits
            early (the message contains the end of its log), or it does not
            respond within ``server.startup_timeout`` seconds.
        """
        if self.process is not None:
            raise HarnessError("the local model server is already running")
        config = self.build_config()
        check_port_free("127.0.0.1", self.settings.port, self.pool)

        if self._log_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="harness-llama-")
            folder = Path(self._temporary.name)
        else:
            folder = self._log_dir
            folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / f"llama-server-{self.settings.port}.json"
        self.log_path = folder / f"llama-server-{self.settings.port}.log"
        self.config_path.write_text(json.dumps(config, indent=2) + "\n")

        environment = {k: v for k, v in os.environ.items() if k not in OVERRIDING_ENVIRONMENT}
        # The wrapper runs llama_cpp.server and exits if this process dies first.
        command = [sys.executable, "-m", "harness._llama_child", "--config_file", str(self.config_path)]
        logger.info(
            "starting llama.cpp server on %s for %s (log: %s)", self.api_base, ", ".join(self.aliases), self.log_path
        )
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        logger.info("llama.cpp server ready on %s after %.1f s", self.api_base, time.monotonic() - started)

    def _wait_ready(self, started: float) -> None:
        assert self.process is not None and self.log_path is not None
        deadline = started + self.settings.startup_timeout
        url = f"{self.api_base}/models"
        while True:
            code = self.process.poll()
            if code is not None:
                raise HarnessError(
                    f"the llama.cpp server exited with code {code} before it was ready; end of {self.log_path}:\n"
                    f"{_log_tail(self.log_path)}"
                )
            served = self._served_models(url)
            if served is not None:
                missing = sorted(set(self.aliases) - served)
                if missing:
                    raise HarnessError(
                        f"the server on {self.api_base} does not list the models {', '.join(missing)}; "
                        f"it lists {', '.join(sorted(served)) or 'none'}"
                    )
                return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"the llama.cpp server did not respond to {url} within {self.settings.startup_timeout:.0f} s; "
                    f"raise server.startup_timeout in the pool file if loading is slow. End of {self.log_path}:\n"
                    f"{_log_tail(self.log_path)}"
                )
            time.sleep(POLL_INTERVAL)

    @staticmethod
    def _served_models(url: str) -> set[str] | None:
        """Return the model ids that ``GET /v1/models`` lists, or None while the server does not respond."""
        try:
            with _DIRECT.open(url, timeout=2) as response:
                body = json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            return None
        return {str(item.get("id")) for item in body.get("data", []) if isinstance(item, dict)}

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds. Safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                logger.warning("llama.cpp server (pid %d) ignored SIGTERM for %.0f s; killing it", process.pid, STOP_GRACE)
                process.kill()
                process.wait()
            logger.info("stopped llama.cpp server on %s", self.api_base)
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def __enter__(self) -> LlamaServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def ensure_local_server(pool: Pool, log_dir: Path | str | None = None) -> Iterator[LlamaServer | None]:
    """Run the pool's local server for the duration of the ``with`` block; do nothing when it has none.

    Yields the running LlamaServer, or None for a pool without a ``server`` section.
    """
    if pool.server is None:
        yield None
        return
    with LlamaServer(pool, log_dir=log_dir) as server:
        yield server
