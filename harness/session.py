"""Process-wide gateways, shared by every provider instance that uses the same pool and cache."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from contextlib import ExitStack
from pathlib import Path

from harness.cache import ResponseCache
from harness.gateway import Gateway
from harness.paths import responses_cache_dir
from harness.pool import Pool, PoolModel, load_pool

logger = logging.getLogger(__name__)

DEFAULT_POOL = "pools/local.yaml"

_lock = threading.Lock()
_gateways: dict[tuple[str, str, str], Gateway] = {}
_servers = ExitStack()


def _resolve_pool_path(pool: str | None) -> Path:
    return Path(pool or os.environ.get("HARNESS_POOL") or DEFAULT_POOL).expanduser().resolve()


def _lazy_server_starter(pool: Pool):
    """Return a hook that starts the pool's local server before its first uncached call."""
    if pool.server is None:
        return None
    started = threading.Event()
    start_lock = threading.Lock()

    def start(model: PoolModel) -> None:
        if model.weights is None or started.is_set():
            return
        with start_lock:
            if started.is_set():
                return
            from harness.local_server import LlamaServer

            log_dir = Path(os.environ.get("HARNESS_SERVER_LOG_DIR") or responses_cache_dir().parent / "server-logs")
            logger.info("starting the local model server for pool %s on port %d", pool.name, pool.server.port)
            _servers.enter_context(LlamaServer(pool, log_dir=log_dir))
            started.set()

    return start


def get_gateway(pool: str | None = None, cache_dir: str | None = None, cache_mode: str | None = None) -> Gateway:
    """Return the gateway of this process for a pool file, cache folder and cache mode.

    Unset arguments fall back to ``HARNESS_POOL``, ``HARNESS_RESPONSE_CACHE`` and
    ``HARNESS_CACHE_MODE``, then to ``pools/local.yaml``, the user cache folder
    and ``read-write``.
    """
    pool_path = _resolve_pool_path(pool)
    directory = str(Path(cache_dir or responses_cache_dir()).expanduser().resolve())
    mode = cache_mode or os.environ.get("HARNESS_CACHE_MODE") or "read-write"
    key = (str(pool_path), directory, mode)
    with _lock:
        if key not in _gateways:
            loaded = load_pool(pool_path)
            _gateways[key] = Gateway(loaded, ResponseCache(directory, mode), before_call=_lazy_server_starter(loaded))
        return _gateways[key]


def close_all() -> None:
    """Stop local servers this process started and close every cache."""
    with _lock:
        _servers.close()
        for gateway in _gateways.values():
            gateway.cache.close()
        _gateways.clear()


atexit.register(close_all)
