"""Disk cache of model responses: every paid answer is stored once, with its usage and cost."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
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

# A read-write cache refuses to open with less free space than this, so a
# full disk is reported before any paid call. ``HARNESS_CACHE_MIN_FREE_MB``
# overrides it (0 turns the check off).
DEFAULT_MIN_FREE_MB = 16.0


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
        if filename is not None and not os.path.isfile(os.path.join(self._directory, filename)):
            # diskcache reads a missing value file as a silent miss; this
            # cache never deletes entries, so a missing file is damage.
            raise CorruptEntryError(f"the value file {filename} of the entry is missing")
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


class CacheWriteError(HarnessError):
    """The response cache could not store an answer (disk full, read-only folder, damaged database)."""


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
    write_errors: int = 0


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

    Raises
    ------
    HarnessError
        In ``read-write`` mode, when the folder cannot be written or has less
        free space than ``HARNESS_CACHE_MIN_FREE_MB`` (default 16 MB); in any
        mode but ``off``, when the cache database cannot be opened.
    """

    def __init__(self, directory: str | Path, mode: CacheMode = "read-write") -> None:
        if mode not in CACHE_MODES:
            raise HarnessError(f"cache mode {mode!r} is invalid; use one of: {', '.join(CACHE_MODES)}")
        self.directory = Path(directory)
        self.mode: CacheMode = mode
        self.stats = CacheStats()
        # Keys of the entries found damaged in this process, with the reason.
        self.damaged: dict[str, str] = {}
        self._lock = threading.Lock()
        self._cache: diskcache.Cache | None = None
        if mode != "off":
            self._open()

    def _open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self.mode == "read-write":
                self._check_writable()
            # No eviction: a paid answer is never dropped to save space.
            self._cache = diskcache.Cache(
                str(self.directory), disk=JSONDisk, eviction_policy="none", size_limit=2**62, timeout=60
            )
        except (OSError, sqlite3.Error) as error:
            if self.mode == "replay":
                hint = "replay mode also writes SQLite's lock files, so copy the cache to a writable folder"
            else:
                hint = "set HARNESS_RESPONSE_CACHE (or --cache-dir) to a writable folder with free space"
            raise HarnessError(
                f"cannot open the response cache at {self.directory}: {error}; {hint}, or move a damaged cache.db away"
            ) from None

    def _check_writable(self) -> None:
        """Raise before any paid call when the folder cannot take new entries."""
        raw = os.environ.get("HARNESS_CACHE_MIN_FREE_MB", "").strip()
        try:
            minimum_mb = float(raw) if raw else DEFAULT_MIN_FREE_MB
        except ValueError:
            raise HarnessError(f"HARNESS_CACHE_MIN_FREE_MB={raw!r} is invalid; set it to a number of megabytes") from None
        free_mb = shutil.disk_usage(self.directory).free / 2**20
        if free_mb < minimum_mb:
            raise HarnessError(
                f"the response cache folder {self.directory} has {free_mb:.1f} MB free, less than the "
                f"{minimum_mb:g} MB needed; free disk space or set HARNESS_RESPONSE_CACHE to another folder"
            )
        # Answers over 32 KB go to files beside the database, so probe a file write.
        probe = self.directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"0" * 4096)
        probe.unlink()

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
        except (CorruptEntryError, OSError, UnicodeDecodeError, sqlite3.DatabaseError) as error:
            return self._damaged(key, f"{type(error).__name__}: {error}")
        if raw is None:
            self.stats.misses += 1
            return None
        try:
            envelope = json.loads(raw)
            payload_text = envelope["payload"]
            if _checksum(payload_text) != envelope["sha256"]:
                return self._damaged(key, "SHA-256 checksum mismatch")
            payload = json.loads(payload_text)
            if not isinstance(payload, dict):
                return self._damaged(key, f"payload is a {type(payload).__name__}, not an object")
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            return self._damaged(key, f"invalid entry ({type(error).__name__}: {error})")
        self.stats.hits += 1
        return payload

    def report_damaged(self, key: str, reason: str) -> None:
        """Record and log an entry that a reader found unusable; the caller treats it as a miss."""
        self.stats.hits -= 1
        self._damaged(key, reason)

    def _damaged(self, key: str, reason: str) -> None:
        self.stats.corrupt += 1
        self.stats.misses += 1
        self.damaged[key] = reason
        action = "reported as missing (replay mode)" if self.mode == "replay" else "fetched again"
        logger.warning("damaged cache entry %s in %s: %s; it is %s", key, self.directory, reason, action)
        return None

    def set(self, key: str, payload: dict[str, Any]) -> None:
        """Store ``payload`` under ``key`` (read-write mode only)."""
        if self._cache is None or self.mode != "read-write":
            return
        payload_text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        envelope = json.dumps({"sha256": _checksum(payload_text), "payload": payload_text})
        try:
            self._cache.set(key, envelope, retry=True)
        except (OSError, sqlite3.Error) as error:
            self.stats.write_errors += 1
            raise CacheWriteError(
                f"cannot write to the response cache at {self.directory} (key {key}): {type(error).__name__}: {error}; "
                "free disk space or set HARNESS_RESPONSE_CACHE to a writable folder, then rerun to resume"
            ) from None
        self.damaged.pop(key, None)
        self.stats.writes += 1

    def __len__(self) -> int:
        return 0 if self._cache is None else len(self._cache)

    def keys(self) -> list[str]:
        """Return every stored text key; rows with a pickled key are skipped, never unpickled."""
        if self._cache is None:
            return []
        with sqlite3.connect(self.directory / "cache.db") as connection:
            rows = connection.execute("SELECT key FROM Cache WHERE raw = 1 ORDER BY rowid").fetchall()
        return [key for (key,) in rows if isinstance(key, str)]

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
