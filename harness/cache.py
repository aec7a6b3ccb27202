"""Disk cache of model responses: every paid answer is stored once, with its usage and cost."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import diskcache

from harness.errors import HarnessError

logger = logging.getLogger(__name__)

CacheMode = Literal["read-write", "replay", "off"]
CACHE_MODES: tuple[str, ...] = ("read-write", "replay", "off")

# Bump when the stored payload changes shape: old entries then miss instead
# of being misread.
FORMAT_VERSION = 1


class JSONDisk(diskcache.Disk):
    """A diskcache storage that holds text only and never unpickles.

    diskcache pickles any value that is not str, bytes, int or float, and
    unpickles it on read. A cache folder may come from someone else, so this
    disk rejects pickled rows instead of loading them.
    """

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN):  # type: ignore[override]
        if not isinstance(value, str):
            raise TypeError(f"the response cache stores JSON text only, got {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool):  # type: ignore[override]
        if mode == diskcache.core.MODE_PICKLE:
            raise CorruptEntryError("a cache entry holds a pickled object; it is ignored and will not be loaded")
        return super().fetch(mode, filename, value, read)

    def put(self, key: Any):  # type: ignore[override]
        if not isinstance(key, str):
            raise TypeError(f"cache keys are strings, got {type(key).__name__}")
        return super().put(key)

    def get(self, key: Any, raw: bool):  # type: ignore[override]
        if not raw:
            raise CorruptEntryError("a cache key is stored pickled; it is ignored and will not be loaded")
        return super().get(key, raw)


class CorruptEntryError(Exception):
    """A cache entry failed its integrity check."""


def request_key(model_id: str, model: str, request: dict[str, Any]) -> str:
    """Return the cache key of a request: a SHA-256 over the model and the full request.

    Parameters
    ----------
    model_id : str
        The pool's id of the model.
    model : str
        The LiteLLM model string (``provider/name``).
    request : dict
        Everything sent that shapes the answer: messages or prompt, mode and
        generation parameters. It must not contain credentials; the gateway
        never puts the API key or the API base in it.
    """
    material = {"v": FORMAT_VERSION, "model_id": model_id, "model": model, "request": request}
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _checksum(payload_text: str) -> str:
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Counts of cache lookups in this process."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0


class ResponseCache:
    """A process-safe disk cache of model responses, stored as checksummed JSON.

    Parameters
    ----------
    directory : str or Path
        Cache folder; created when missing. Several processes may share it.
    mode : {"read-write", "replay", "off"}
        ``read-write`` reads hits and stores new answers; ``replay`` reads only,
        and the gateway treats a miss as an error; ``off`` neither reads nor
        writes.
    """

    def __init__(self, directory: str | Path, mode: CacheMode = "read-write") -> None:
        if mode not in CACHE_MODES:
            raise HarnessError(f"cache mode {mode!r} is invalid; use one of: {', '.join(CACHE_MODES)}")
        self.directory = Path(directory)
        self.mode: CacheMode = mode
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._cache: diskcache.Cache | None = None
        if mode != "off":
            self._open()

    def _open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # No eviction: a paid answer is never dropped to save space.
            self._cache = diskcache.Cache(
                str(self.directory), disk=JSONDisk, eviction_policy="none", size_limit=2**62, timeout=60
            )
        except OSError as error:
            raise HarnessError(
                f"cannot open the response cache at {self.directory}: {error}; "
                "set HARNESS_RESPONSE_CACHE to a writable folder"
            ) from None

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the stored payload for ``key``, or None on a miss or a damaged entry.

        A damaged entry (bad checksum, truncated file, invalid JSON, pickled
        row) is logged with its key and treated as a miss, so a read-write run
        fetches it again and a replay run reports it as missing.
        """
        if self._cache is None:
            return None
        try:
            raw = self._cache.get(key, default=None, retry=True)
        except (CorruptEntryError, OSError, UnicodeDecodeError) as error:
            return self._damaged(key, str(error))
        if raw is None:
            self.stats.misses += 1
            return None
        try:
            envelope = json.loads(raw)
            payload_text = envelope["payload"]
            if _checksum(payload_text) != envelope["sha256"]:
                return self._damaged(key, "checksum mismatch")
            payload = json.loads(payload_text)
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            return self._damaged(key, f"invalid entry ({error})")
        self.stats.hits += 1
        return payload

    def _damaged(self, key: str, reason: str) -> None:
        self.stats.corrupt += 1
        self.stats.misses += 1
        logger.warning("damaged cache entry %s ignored: %s", key, reason)
        return None

    def set(self, key: str, payload: dict[str, Any]) -> None:
        """Store ``payload`` under ``key`` (read-write mode only)."""
        if self._cache is None or self.mode != "read-write":
            return
        payload_text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        envelope = json.dumps({"sha256": _checksum(payload_text), "payload": payload_text})
        try:
            self._cache.set(key, envelope, retry=True)
        except OSError as error:
            raise HarnessError(
                f"cannot write to the response cache at {self.directory}: {error}; "
                "free disk space or set HARNESS_RESPONSE_CACHE to a writable folder, then rerun to resume"
            ) from None
        self.stats.writes += 1

    def __len__(self) -> int:
        return 0 if self._cache is None else len(self._cache)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
